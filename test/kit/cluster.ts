/**
 * A real cluster on one machine: a nats-server with JetStream and N hextwin nodes (child
 * processes) joined to it through NATS_URL, each with its own NODE_ID. Everything is stopped by
 * PID in `stop()`.
 */
import { startNats, type NatsHandle } from './nats.js';
import { startServer, type ServerHandle } from './server.js';

export interface ClusterHandle {
  nats: NatsHandle;
  nodes: ServerHandle[];
  /** env every node gets (NATS_URL included) */
  env: Record<string, string>;
  /** start node i again (same NODE_ID, port and data dir) after a stop or kill */
  restartNode(i: number): Promise<ServerHandle>;
  /** stop the nats-server (gracefully, or SIGKILL) and start it again on the same port and store */
  restartNats(kill?: boolean): Promise<void>;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  nodes: number;
  env?: Record<string, string>;
  readyTimeoutMs?: number;
}

export async function startCluster(opts: ClusterOptions): Promise<ClusterHandle> {
  const nats = await startNats();
  const env = { NATS_URL: nats.url, ...opts.env };
  const nodes: ServerHandle[] = [];
  const handle: ClusterHandle = {
    nats,
    nodes,
    env,
    async restartNode(i) {
      nodes[i] = await nodes[i]!.restart();
      return nodes[i]!;
    },
    async restartNats(kill = false) {
      if (kill) await handle.nats.kill();
      else await handle.nats.stop();
      handle.nats = await handle.nats.restart();
    },
    async stop() {
      await Promise.all(nodes.map((n) => n.kill()));
      await handle.nats.cleanup();
    },
  };
  try {
    for (let i = 0; i < opts.nodes; i++) {
      nodes.push(await startServer({ env: { ...env, NODE_ID: `node-${i + 1}` }, readyTimeoutMs: opts.readyTimeoutMs ?? 60_000 }));
    }
  } catch (e) {
    await handle.stop();
    throw e;
  }
  return handle;
}
