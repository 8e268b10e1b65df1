/**
 * A first user's `MODELS_DIR=./my-models pnpm start`: relative paths in the environment resolve
 * against the directory the root script was started from, not against server/ where pnpm runs the
 * package script. The test runs the real root script (through pnpm) from a fresh temp directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeAuthFile } from '../kit/auth-file.js';
import { freePort } from '../kit/ports.js';
import { repoRoot } from '../kit/server.js';

const KEY = 'start-dir-viewer-key';
let child: ChildProcess;
let startDir: string;
let url: string;
let output = '';

/** Stops the whole process tree pnpm started (npx, pnpm, the shells, node): it runs in its own group. */
async function stopTree(): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  process.kill(-child.pid!, 'SIGTERM');
  const force = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 10_000);
  await exited;
  clearTimeout(force);
}

beforeAll(async () => {
  startDir = mkdtempSync(path.join(tmpdir(), 'hextwin-start-dir-'));
  mkdirSync(path.join(startDir, 'my-models'));
  // a model with no imports, so it loads from anywhere
  writeFileSync(
    path.join(startDir, 'my-models', 'beacon.mjs'),
    "export const beacon = { name: 'beacon', init: () => ({ n: 0 }), process: (_ctx, s, ms) => { s.n += ms.length; return 'update'; } };\n",
  );
  copyFileSync(writeAuthFile([{ key: KEY, role: 'viewer' }]), path.join(startDir, 'auth.json'));
  writeFileSync(path.join(startDir, 'hooks.json'), '[]');
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  const env: Record<string, string | undefined> = {
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    HEXTWIN_SAMPLE_MODELS: '0',
    MODELS_DIR: './my-models',
    AUTH_FILE: './auth.json',
    ALERT_WEBHOOKS: './hooks.json',
    WEB_DIR: path.join(repoRoot, 'web/dist'),
  };
  // as a user's shell has it: no INIT_CWD left over from the pnpm that runs this test
  delete env.INIT_CWD;
  delete env.DATA_DIR;
  child = spawn('npx', ['-y', 'pnpm@10.34.9', '--dir', repoRoot, 'start'], { cwd: startDir, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`pnpm start exited with ${child.exitCode}:\n${output.slice(-4000)}`);
    const ok = await fetch(url + '/readyz').then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`pnpm start not ready after 60 s:\n${output.slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}, 90_000);

afterAll(async () => {
  await stopTree();
});

describe('pnpm start from another directory', () => {
  it('loads MODELS_DIR=./my-models from the directory pnpm start was run in', async () => {
    const r = await fetch(url + '/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
      body: JSON.stringify({ query: '{ models { name } }' }),
    });
    const body = (await r.json()) as { data?: { models: { name: string }[] }; errors?: unknown };
    expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
    expect(body.data!.models.map((m) => m.name)).toEqual(['beacon']);
  });

  it('reads AUTH_FILE=./auth.json from there: the key in it is accepted and a request without a key is refused', async () => {
    const ask = (headers: Record<string, string>) =>
      fetch(url + '/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ query: '{ models { name } }' }),
      });
    expect((await ask({})).status).toBe(401);
    expect((await ask({ authorization: `Bearer ${KEY}` })).status).toBe(200);
  });

  it('keeps state in ./data of that directory by default', () => {
    expect(existsSync(path.join(startDir, 'data'))).toBe(true);
    expect(readdirSync(path.join(startDir, 'data')).length).toBeGreaterThan(0);
  });
});
