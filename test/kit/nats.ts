/**
 * Starts a real nats-server with JetStream on a free 127.0.0.1 port and a temporary store
 * directory, and stops it by PID. `restart()` starts it again on the same port and directory
 * (the NATS-restart test); `kill()` is a SIGKILL. With `user`/`password` (or `token`) the server
 * requires them; with `syncAlways` it fsyncs every JetStream write (nats-server 2.10 and newer
 * only: 2.9 has no `sync_interval` and syncs every two minutes).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
  user?: string;
  password?: string;
  token?: string;
  syncAlways?: boolean;
}

/** Whether the installed nats-server knows `sync_interval` (2.10+). */
export function natsSupportsSyncInterval(): boolean {
  const v = /v?(\d+)\.(\d+)/.exec(execFileSync('nats-server', ['--version']).toString());
  return !!v && (Number(v[1]) > 2 || (Number(v[1]) === 2 && Number(v[2]) >= 10));
}

function configFile(storeDir: string, o: NatsOptions, port: number): string {
  const lines = [`listen: "127.0.0.1:${port}"`, `jetstream { store_dir: ${JSON.stringify(storeDir)}${o.syncAlways ? ', sync_interval: always' : ''} }`];
  if (o.user) lines.push(`authorization { user: ${JSON.stringify(o.user)}, password: ${JSON.stringify(o.password ?? '')} }`);
  else if (o.token) lines.push(`authorization { token: ${JSON.stringify(o.token)} }`);
  const file = `${storeDir}.conf`;
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

export async function startNats(opts: NatsOptions = {}): Promise<NatsHandle> {
  const port = opts.port ?? (await freePort());
  const storeDir = opts.storeDir ?? mkdtempSync(path.join(tmpdir(), 'hextwin-nats-'));
  if (opts.syncAlways && !natsSupportsSyncInterval()) throw new Error('syncAlways needs nats-server 2.10 or newer (sync_interval)');
  const args =
    opts.user || opts.token || opts.syncAlways
      ? ['-c', configFile(storeDir, opts, port)]
      : ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir, '-m', '0'];
  const child: ChildProcess = spawn('nats-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
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
    restart: () => startNats({ ...opts, port, storeDir }),
    async cleanup() {
      await handle.stop();
      rmSync(storeDir, { recursive: true, force: true });
      rmSync(`${storeDir}.conf`, { force: true });
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
