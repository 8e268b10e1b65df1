/**
 * Starts the real hextwin server as a child process on a free port with its own data directory,
 * and stops it by PID. `kill()` is a SIGKILL (crash tests); `stop()` a graceful SIGTERM.
 * Without AUTH_FILE the kit's servers run in the development mode AUTH_ANONYMOUS=1 (every caller is
 * an admin on loopback), so tests that are not about authentication need no key; pass
 * `env: { AUTH_ANONYMOUS: '' }` for the product's default (a generated admin token, `adminToken()`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { freePort } from './ports.js';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
/** tsx is the server package's dependency: resolve its loader from there, not from the repo root. */
export const tsxLoader = pathToFileURL(createRequire(path.join(repoRoot, 'server/package.json')).resolve('tsx')).href;

export interface ServerHandle {
  url: string;
  port: number;
  dataDir: string;
  pid: number;
  /** everything the server wrote to stdout/stderr so far */
  output(): string;
  /** the admin token of token mode (no AUTH_FILE, no AUTH_ANONYMOUS), as kept in DATA_DIR */
  adminToken(): string;
  stop(): Promise<void>;
  kill(): Promise<void>;
  /** start again on the same port and data directory */
  restart(): Promise<ServerHandle>;
}

export interface ServerOptions {
  env?: Record<string, string>;
  port?: number;
  dataDir?: string;
  /** ms to wait for /readyz */
  readyTimeoutMs?: number;
}

async function waitReady(url: string, child: ChildProcess, ms: number, out: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode} before ready:\n${out().slice(-4000)}`);
    try {
      const r = await fetch(url + '/readyz');
      if (r.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`server not ready after ${ms} ms:\n${out().slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startServer(opts: ServerOptions = {}): Promise<ServerHandle> {
  const port = opts.port ?? (await freePort());
  const dataDir = opts.dataDir ?? mkdtempSync(path.join(tmpdir(), 'hextwin-data-'));
  const child = spawn(process.execPath, ['--max-semi-space-size=64', '--import', tsxLoader, path.join(repoRoot, 'server/src/main.ts')], {
    cwd: repoRoot,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      WEB_DIR: path.join(repoRoot, 'web/dist'),
      LOG_LEVEL: 'warn',
      ...(opts.env?.AUTH_FILE ? {} : { AUTH_ANONYMOUS: '1' }),
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => (buf += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (buf += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const handle: ServerHandle = {
    url,
    port,
    dataDir,
    pid: child.pid!,
    output: () => buf,
    adminToken: () => readFileSync(path.join(dataDir, 'admin-token'), 'utf8').trim(),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(t);
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
    restart: () => startServer({ ...opts, port, dataDir }),
  };
  try {
    await waitReady(url, child, opts.readyTimeoutMs ?? 30_000, handle.output);
  } catch (e) {
    await handle.kill();
    throw e;
  }
  return handle;
}
