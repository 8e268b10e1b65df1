/**
 * Starts a real nats-server with JetStream on a free 127.0.0.1 port and a temporary store
 * directory, and stops it by PID. `restart()` starts it again on the same port and directory
 * (the NATS-restart test); `kill()` is a SIGKILL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, waitForPort } from './ports.js';

export interface NatsHandle {
  /** nats://127.0.0.1:PORT */
  url: string;
  port: number;
  storeDir: string;
  pid: number;
  output(): string;
  /** graceful stop (SIGTERM, then SIGKILL after 5 s) */
  stop(): Promise<void>;
  /** SIGKILL */
  kill(): Promise<void>;
  /** start again on the same port and store directory */
  restart(): Promise<NatsHandle>;
  /** stop and delete the store directory */
  cleanup(): Promise<void>;
}

export interface NatsOptions {
  port?: number;
  storeDir?: string;
}

export async function startNats(opts: NatsOptions = {}): Promise<NatsHandle> {
  const port = opts.port ?? (await freePort());
  const storeDir = opts.storeDir ?? mkdtempSync(path.join(tmpdir(), 'hextwin-nats-'));
  const child: ChildProcess = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir, '-m', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => (buf += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (buf += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const spawnFailed = new Promise<never>((_, reject) => child.once('error', (e) => reject(new Error(`nats-server could not start: ${e.message}`))));
  const running = () => child.exitCode === null && child.signalCode === null;
  const handle: NatsHandle = {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    pid: child.pid ?? -1,
    output: () => buf,
    async stop() {
      if (!running()) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(t);
    },
    async kill() {
      if (!running()) return;
      child.kill('SIGKILL');
      await exited;
    },
    restart: () => startNats({ port, storeDir }),
    async cleanup() {
      await handle.stop();
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
  try {
    await Promise.race([waitForPort(port, 10_000, `nats-server on ${port}`), spawnFailed]);
  } catch (e) {
    await handle.kill();
    throw new Error(`${(e as Error).message}\n${buf.slice(-2000)}`);
  }
  return handle;
}
