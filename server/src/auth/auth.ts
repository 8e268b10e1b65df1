/**
 * API keys and roles from AUTH_FILE. Keys are stored as SHA-256 hashes, never in clear.
 *
 * AUTH_FILE (JSON):
 *   { "keys": [ { "name": "ops", "sha256": "<hex of sha256(key)>", "role": "operator" },
 *               { "name": "meter-7", "sha256": "...", "role": "device", "twins": ["gas-sensor/meter-7*"] } ] }
 * Roles: device (writes its own twins, reads their commands), viewer (reads), operator (reads and
 * runs mutations), admin (everything). `twins` patterns are `model/id` with `*` wildcards.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { HextwinError } from '@hextwin/shared';

export const Roles = ['device', 'viewer', 'operator', 'admin'] as const;
export type Role = (typeof Roles)[number];

export interface Principal {
  name: string;
  role: Role;
  /** may this principal send messages to (and read commands of) this twin? */
  canWrite(model: string, id: string): boolean;
  canRead: boolean;
  canMutate: boolean;
}

export interface Auth {
  /** false when no AUTH_FILE is configured: every caller is an anonymous admin (bound to loopback). */
  readonly enabled: boolean;
  /** The principal for a presented key, or throws UNAUTHENTICATED. */
  authenticate(key: string | undefined | null): Principal;
}

interface KeyEntry {
  name: string;
  hash: Buffer;
  role: Role;
  patterns: RegExp[] | null;
}

const ANONYMOUS: Principal = { name: 'anonymous', role: 'admin', canWrite: () => true, canRead: true, canMutate: true };

export function hashKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

function globToRegExp(glob: string): RegExp {
  const esc = glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp('^' + esc + '$');
}

function principalOf(e: KeyEntry): Principal {
  const patterns = e.patterns;
  return {
    name: e.name,
    role: e.role,
    canRead: e.role !== 'device',
    canMutate: e.role === 'operator' || e.role === 'admin',
    canWrite:
      e.role === 'device'
        ? (model, id) => patterns !== null && patterns.some((p) => p.test(model + '/' + id))
        : () => e.role === 'operator' || e.role === 'admin',
  };
}

export function openAuth(file: string | undefined): Auth {
  if (!file) return { enabled: false, authenticate: () => ANONYMOUS };
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new HextwinError('CONFIG_INVALID', `AUTH_FILE ${file}: ${(e as Error).message}`);
  }
  const keys = (parsed as { keys?: unknown }).keys;
  if (!Array.isArray(keys)) throw new HextwinError('CONFIG_INVALID', `AUTH_FILE ${file}: expected {"keys": [...]}`);
  const entries: KeyEntry[] = keys.map((k: Record<string, unknown>, i: number) => {
    const where = `AUTH_FILE ${file}: keys[${i}]`;
    if (typeof k.sha256 !== 'string' || !/^[0-9a-f]{64}$/i.test(k.sha256)) throw new HextwinError('CONFIG_INVALID', `${where}.sha256 must be 64 hex digits`);
    if (!Roles.includes(k.role as Role)) throw new HextwinError('CONFIG_INVALID', `${where}.role must be one of ${Roles.join(', ')}`);
    const twins = k.twins;
    if (twins !== undefined && !(Array.isArray(twins) && twins.every((t) => typeof t === 'string')))
      throw new HextwinError('CONFIG_INVALID', `${where}.twins must be a list of "model/id" patterns`);
    return {
      name: typeof k.name === 'string' ? k.name : `key-${i}`,
      hash: Buffer.from(k.sha256.toLowerCase(), 'hex'),
      role: k.role as Role,
      patterns: twins ? (twins as string[]).map(globToRegExp) : null,
    };
  });
  const principals = new Map<string, Principal>();
  for (const e of entries) principals.set(e.hash.toString('hex'), principalOf(e));
  return {
    enabled: true,
    authenticate(key) {
      if (!key) throw new HextwinError('UNAUTHENTICATED');
      const h = createHash('sha256').update(key, 'utf8').digest();
      for (const e of entries) {
        if (timingSafeEqual(e.hash, h)) return principals.get(e.hash.toString('hex'))!;
      }
      throw new HextwinError('UNAUTHENTICATED', 'The API key is not known.');
    },
  };
}

/** The bearer token of an Authorization header, if any. */
export function bearer(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer\s+(.+)$/i.exec(header.trim());
  return m ? m[1] : undefined;
}
