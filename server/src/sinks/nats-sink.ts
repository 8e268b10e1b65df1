/**
 * NATS sink: each event is published to `{subject}.{kind}.{model}` (the model's characters outside
 * [A-Za-z0-9_-] become `_`), with a `Nats-Msg-Id` header of the event id, so a JetStream stream
 * that captures these subjects stores each event once however often it is retried. A batch counts
 * as delivered once the server has answered a flush after it.
 */
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import type { SinkEvent } from './events.js';
import type { NatsSinkConfig } from './config.js';
import { withTimeout, type Sink } from './sink.js';

const token = (s: string) => s.replace(/[^A-Za-z0-9_-]/g, '_') || '_';

export class NatsSink implements Sink {
  readonly name: string;
  private nc: NatsConnection | null = null;
  private connected = false;
  private readonly enc = new TextEncoder();

  constructor(private readonly cfg: NatsSinkConfig) {
    this.name = cfg.name;
  }

  async open(): Promise<void> {
    if (this.nc && !this.nc.isClosed()) return;
    const nc = await connect({
      servers: this.cfg.url.split(',').map((s) => s.trim()),
      name: `hextwin-sink-${this.cfg.name}`,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      timeout: this.cfg.timeoutMs,
      noAsyncTraces: true,
    });
    this.nc = nc;
    this.connected = true;
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === 'disconnect') this.connected = false;
        else if (s.type === 'reconnect') this.connected = true;
      }
    })();
  }

  async deliver(batch: readonly SinkEvent[]): Promise<void> {
    const nc = this.nc;
    if (!nc || nc.isClosed()) throw new Error('not connected');
    if (!this.connected) throw new Error('NATS disconnected');
    for (const e of batch) {
      const h = headers();
      h.set('Nats-Msg-Id', e.eventId);
      nc.publish(`${this.cfg.subject}.${e.kind}.${token(e.model)}`, this.enc.encode(JSON.stringify(e)), { headers: h });
    }
    await withTimeout(nc.flush(), this.cfg.timeoutMs, 'NATS flush');
  }

  async close(): Promise<void> {
    const nc = this.nc;
    this.nc = null;
    if (nc && !nc.isClosed()) await nc.drain().catch(() => nc.close());
  }
}
