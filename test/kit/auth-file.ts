/** Writes an AUTH_FILE for tests: keys are stored as SHA-256 hashes, as the server expects. */
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface TestKey {
  key: string;
  role: 'device' | 'viewer' | 'operator' | 'admin';
  /** device scope: "model/id" patterns with * wildcards */
  twins?: string[];
  name?: string;
}

/** The path of a fresh AUTH_FILE holding these keys. */
export function writeAuthFile(keys: TestKey[]): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'hextwin-auth-')), 'auth.json');
  const entries = keys.map((k, i) => ({
    name: k.name ?? `${k.role}-${i}`,
    sha256: createHash('sha256').update(k.key, 'utf8').digest('hex'),
    role: k.role,
    ...(k.twins ? { twins: k.twins } : {}),
  }));
  writeFileSync(file, JSON.stringify({ keys: entries }, null, 2));
  return file;
}
