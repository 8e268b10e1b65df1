/** What the benchmarks need to run real processes beside themselves: a free port, the server, and a clean stop. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { trackChild } from './children.js';

/** A free TCP port on 127.0.0.1 (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** SIGTERM, then SIGKILL after 5 s; resolves once the child has exited (at once when it already has). */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(t);
}

const serverDir = fileURLToPath(new URL('../..', import.meta.url));
const tsx = pathToFileURL(createRequire(path.join(serverDir, 'package.json')).resolve('tsx')).href;

/**
 * The real hextwin server as a child process on a free loopback port with a fresh data directory,
 * only the models of `modelsDir`, durability on. The caller waits for /readyz and stops it.
 * HEXTWIN_BENCH_PROF=<dir> writes a CPU profile of the server there.
 */
export async function spawnServer(opts: { modelsDir: string; env?: Record<string, string>; nodeArgs?: string[]; stdio?: 'ignore' | 'pipe' }) {
  const port = await freePort();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'hextwin-bench-'));
  const prof = process.env.HEXTWIN_BENCH_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.HEXTWIN_BENCH_PROF}`] : [];
  const child = spawn(process.execPath, ['--max-semi-space-size=64', ...prof, ...(opts.nodeArgs ?? []), '--import', tsx, path.join(serverDir, 'src/main.ts')], {
    cwd: serverDir,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'error',
      HEXTWIN_SAMPLE_MODELS: '0',
      MODELS_DIR: opts.modelsDir,
      // the load clients send no key: the development mode without authentication (loopback only)
      ...(opts.env?.AUTH_FILE ? {} : { AUTH_ANONYMOUS: '1' }),
      ...opts.env,
    },
    stdio: ['ignore', opts.stdio ?? 'ignore', 'pipe'],
  });
  trackChild(child, `hextwin server on port ${port}`, () => rmSync(dataDir, { recursive: true, force: true }));
  return { child, port, url: `http://127.0.0.1:${port}`, dataDir };
}
