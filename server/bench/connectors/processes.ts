/** Starting the real server (and a mosquitto) as child processes for the connector benchmarks. */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { freePort, stopChild } from '../lib/child.js';

const serverDir = fileURLToPath(new URL('../..', import.meta.url));
const tsx = pathToFileURL(createRequire(path.join(serverDir, 'package.json')).resolve('tsx')).href;

export interface Child {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** The hextwin server with only the benchmark model, a fresh data directory, durability on. */
export async function startBenchServer(env: Record<string, string> = {}): Promise<Child> {
  const port = await freePort();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'hextwin-bench-'));
  // HEXTWIN_BENCH_PROF=<dir> writes a CPU profile of the server under load there
  const prof = process.env.HEXTWIN_BENCH_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.HEXTWIN_BENCH_PROF}`] : [];
  const child = spawn(process.execPath, ['--max-semi-space-size=64', ...prof, '--import', tsx, path.join(serverDir, 'src/main.ts')], {
    cwd: serverDir,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'error',
      HEXTWIN_SAMPLE_MODELS: '0',
      MODELS_DIR: fileURLToPath(new URL('./models', import.meta.url)),
      RATE_LIMIT: '0',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`bench server exited: ${err}`);
    const ok = await fetch(url + '/readyz').then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) {
      await stopChild(child);
      throw new Error(`bench server not ready: ${err}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    port,
    async stop() {
      await stopChild(child);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A mosquitto on a free port, or null when it is not installed. */
export async function startMosquitto(): Promise<Child | null> {
  const bin = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto', '/usr/local/sbin/mosquitto'].find((p) => existsSync(p));
  if (!bin) return null;
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'hextwin-bench-mqtt-'));
  chmodSync(dir, 0o755);
  const conf = path.join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'log_dest stderr',
      'log_type error',
      'persistence false',
      'max_queued_messages 1000000',
      'set_tcp_nodelay true',
      '',
    ].join('\n'),
  );
  chmodSync(conf, 0o644);
  const child = spawn(bin, ['-c', conf], { stdio: 'ignore' });
  const deadline = Date.now() + 10_000;
  for (;;) {
    const up = await new Promise<boolean>((r) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), r(true)));
      s.once('error', () => r(false));
    });
    if (up) break;
    if (Date.now() > deadline || child.exitCode !== null) {
      await stopChild(child);
      throw new Error('mosquitto did not start');
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url: `mqtt://127.0.0.1:${port}`, port, stop: () => stopChild(child) };
}
