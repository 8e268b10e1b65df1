/** Starting the real server (and a mosquitto) as child processes for the connector benchmarks. */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, spawnServer, stopChild } from '../lib/child.js';
import { trackChild } from '../lib/children.js';

export interface Child {
  url: string;
  port: number;
  /** the process's id, e.g. to read its CPU time in /proc */
  pid: number;
  stop(): Promise<void>;
}

/** The hextwin server with only the benchmark model, a fresh data directory, durability on. */
export async function startBenchServer(env: Record<string, string> = {}): Promise<Child> {
  const { child, port, url, dataDir } = await spawnServer({
    modelsDir: fileURLToPath(new URL('./models', import.meta.url)),
    env: { RATE_LIMIT: '0', ...env },
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
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
    pid: child.pid!,
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
  const child = trackChild(spawn(bin, ['-c', conf], { stdio: 'ignore' }), `mosquitto on port ${port}`, () => rmSync(dir, { recursive: true, force: true }));
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
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    pid: child.pid!,
    async stop() {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
