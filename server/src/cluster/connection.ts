/** The node's NATS connection: reconnects forever, and reports whether it is currently connected. */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { HextwinError } from '@hextwin/shared';
import { authKind, connectOptions, type NatsSettings } from './nats-settings.js';

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

/** A refused login becomes NATS_AUTH_FAILED, naming the way this node tried (never the secret). */
async function open(opts: Parameters<typeof connect>[0], settings: Partial<NatsSettings>): Promise<NatsConnection> {
  try {
    return await connect(opts);
  } catch (e) {
    const name = (e as Error)?.name ?? '';
    if (name === 'AuthorizationError' || /authori[sz]ation|authentication/i.test((e as Error)?.message ?? '')) {
      throw new HextwinError(
        'NATS_AUTH_FAILED',
        `NATS at ${String(opts?.servers)} refused this node (${(e as Error).message}); credentials tried: ${authKind(settings)}. Check NATS_USER/NATS_PASSWORD, NATS_TOKEN, NATS_CREDS or NATS_NKEY_SEED`,
        { cause: e },
      );
    }
    throw e;
  }
}

export async function connectCluster(url: string, name: string, log: Logger, settings: Partial<NatsSettings> = {}): Promise<ClusterConnection> {
  const nc = await open(
    {
      ...connectOptions(settings),
      servers: url.split(',').map((s) => s.trim()),
      name,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      pingInterval: 5_000,
      waitOnFirstConnect: true,
      // no stack captured per request: with thousands of JetStream publishes a second it costs a tenth of the CPU
      noAsyncTraces: true,
    },
    settings,
  );
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
  // the client gives up only when the server refuses our credentials twice in a row (rotated or revoked)
  void nc.closed().then((err) => {
    connected = false;
    if (err) log.error({ err }, 'NATS connection closed for good: this node no longer acts as owner; restart it with valid credentials');
  });
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
