/**
 * Starts a real mosquitto on a free 127.0.0.1 port with its own config directory, and stops it by
 * PID. With `users`, anonymous clients are refused and an ACL applies (see `acl`). mosquitto
 * started as root drops to user `mosquitto`, so the directory and its files are world-readable.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, waitForPort } from './ports.js';

export interface MosquittoOptions {
  /** username -> password; when given, anonymous clients are refused */
  users?: Record<string, string>;
  /** mosquitto ACL file text (used with `users`) */
  acl?: string;
  /** extra config lines */
  config?: string[];
  /** listen on this port (e.g. to restart a broker where clients expect it); default a free one */
  port?: number;
}

export interface MosquittoHandle {
  /** mqtt://127.0.0.1:PORT */
  url: string;
  port: number;
  pid: number;
  output(): string;
  stop(): Promise<void>;
}

function tool(name: string): string {
  for (const dir of ['/usr/sbin', '/usr/bin', '/usr/local/sbin', '/usr/local/bin']) if (existsSync(path.join(dir, name))) return path.join(dir, name);
  return name;
}

export async function startMosquitto(opts: MosquittoOptions = {}): Promise<MosquittoHandle> {
  const port = opts.port ?? (await freePort());
  const dir = mkdtempSync(path.join(tmpdir(), 'hextwin-mosquitto-'));
  chmodSync(dir, 0o755);
  const lines = [
    `listener ${port} 127.0.0.1`,
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    'persistence false',
    // the server's session may hold many messages while it restarts (crash tests, benches)
    'max_queued_messages 1000000',
    'set_tcp_nodelay true',
  ];
  if (opts.users) {
    const passwd = path.join(dir, 'passwd');
    writeFileSync(passwd, '');
    for (const [user, pass] of Object.entries(opts.users)) {
      const r = spawnSync(tool('mosquitto_passwd'), ['-b', passwd, user, pass], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`mosquitto_passwd failed for ${user}: ${r.stderr || r.error?.message}`);
    }
    chmodSync(passwd, 0o644);
    lines.push('allow_anonymous false', `password_file ${passwd}`);
    if (opts.acl !== undefined) {
      const acl = path.join(dir, 'acl');
      writeFileSync(acl, opts.acl);
      chmodSync(acl, 0o644);
      lines.push(`acl_file ${acl}`);
    }
  } else lines.push('allow_anonymous true');
  lines.push(...(opts.config ?? []));
  const conf = path.join(dir, 'mosquitto.conf');
  writeFileSync(conf, lines.join('\n') + '\n');
  chmodSync(conf, 0o644);

  const child = spawn(tool('mosquitto'), ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => (buf += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (buf += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 3_000);
      await exited;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await Promise.race([
      waitForPort(port, 10_000, `mosquitto on port ${port}`),
      exited.then(() => {
        throw new Error(`mosquitto exited before listening:\n${buf}`);
      }),
    ]);
  } catch (e) {
    await stop();
    throw e;
  }
  return { url: `mqtt://127.0.0.1:${port}`, port, pid: child.pid!, output: () => buf, stop };
}
