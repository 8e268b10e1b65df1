/**
 * A redis-server of the bench's own, for the durable REST + Redis peer: a free loopback port, a
 * temp directory, the append-only file fsynced before every reply (`--appendfsync always`), no RDB
 * snapshots and no AOF rewrites; stopped by PID. (The machine's own Redis on 6379 may keep nothing on disk.)
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, stopChild } from './child.js';
import { trackChild } from './children.js';

export const REDIS_FSYNC = 'always';

export interface RedisProcess {
  port: number;
  pid: number;
  stop(): Promise<void>;
}

export function redisInstalled(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

function pong(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => s.write('PING\r\n'));
    s.once('data', (d) => (s.destroy(), resolve(d.toString().startsWith('+PONG'))));
    s.once('error', () => resolve(false));
  });
}

export async function startRedis(): Promise<RedisProcess> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'hextwin-bench-redis-'));
  // no RDB snapshots and no AOF rewrites: both run in a forked child whose CPU the figure would not see
  const durability = ['--appendonly', 'yes', '--appendfsync', REDIS_FSYNC, '--save', '', '--auto-aof-rewrite-percentage', '0'];
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--daemonize', 'no', ...durability];
  const child = trackChild(spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'pipe'] }), `redis-server on port ${port}`, () =>
    rmSync(dir, { recursive: true, force: true }),
  );
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4_000)));
  const stop = async () => {
    await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10_000;
  while (!(await pong(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`redis-server did not start: ${err}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { port, pid: child.pid!, stop };
}
