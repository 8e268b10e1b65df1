/** The node's NATS connection: reconnects forever, and reports whether it is currently connected. */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';

export interface ClusterConnection {
  readonly nc: NatsConnection;
  /** false between a disconnect and the following reconnect */
  readonly connected: boolean;
  /** called after every reconnect */
  onReconnect(fn: () => void): void;
  /** called when the connection drops */
  onDisconnect(fn: () => void): void;
  close(): Promise<void>;
}

export async function connectCluster(url: string, name: string, log: Logger): Promise<ClusterConnection> {
  const nc = await connect({
    servers: url.split(',').map((s) => s.trim()),
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    pingInterval: 5_000,
    waitOnFirstConnect: true,
    // no stack captured per request: with thousands of JetStream publishes a second it costs a tenth of the CPU
    noAsyncTraces: true,
  });
  let connected = true;
  const reconnectListeners: (() => void)[] = [];
  const disconnectListeners: (() => void)[] = [];
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') {
        connected = false;
        log.warn({ server: (s as { server?: string }).server }, 'NATS disconnected; reconnecting');
        for (const fn of disconnectListeners) fn();
      } else if (s.type === 'reconnect') {
        connected = true;
        log.info('NATS reconnected');
        for (const fn of reconnectListeners) fn();
      }
    }
  })();
  return {
    nc,
    get connected() {
      return connected && !nc.isClosed();
    },
    onReconnect: (fn) => void reconnectListeners.push(fn),
    onDisconnect: (fn) => void disconnectListeners.push(fn),
    async close() {
      if (!nc.isClosed()) await nc.drain().catch(() => nc.close());
    },
  };
}
