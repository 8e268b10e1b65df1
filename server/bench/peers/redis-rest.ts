/** Starts the REST + Redis + Lua peer (redis-rest-server.ts) as a child process, on its own redis-server. */
import { fork } from 'node:child_process';
import { stopChild } from '../lib/child.js';
import { trackChild } from '../lib/children.js';
import { startRedis, type RedisProcess } from '../lib/redis.js';

export interface RedisRestPeer {
  port: number;
  /** the node process and the redis-server: both count in the peer's CPU */
  pids: { node: number; redis: number };
  redis: RedisProcess;
  stop(): Promise<void>;
}

export async function startRedisRestPeer(): Promise<RedisRestPeer> {
  const redis = await startRedis();
  try {
    const child = trackChild(
      fork(new URL('./redis-rest-server.ts', import.meta.url), [String(redis.port)], {
        execArgv: ['--max-semi-space-size=64', '--import', 'tsx'],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      }),
      'REST + Redis peer',
    );
    const port = await new Promise<number>((resolve, reject) => {
      child.once('message', (m: { port: number }) => resolve(m.port));
      child.once('exit', (code) => reject(new Error(`the REST + Redis peer exited with ${code}`)));
    });
    return {
      port,
      pids: { node: child.pid!, redis: redis.pid },
      redis,
      async stop() {
        await stopChild(child);
        await redis.stop();
      },
    };
  } catch (e) {
    await redis.stop();
    throw e;
  }
}
