/**
 * Webhook sink: each batch is one POST of `{"v":1,"events":[...]}` with headers
 * `x-hextwin-event: sink-batch`, `x-hextwin-delivery: <first event id>` and, when a secret is set,
 * `x-hextwin-signature: t=<unix s>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>` — the alert
 * webhooks' scheme (connectors/webhook-sender.ts), so a receiver verifies both the same way. Redirects are not followed (a 3xx
 * is a failure, retried); 2xx is delivered; 408, 429 and 5xx are retried; any other 4xx refuses
 * the batch for good (it is dropped and counted).
 */
import { signBody } from '../connectors/webhook-sender.js';
import type { SinkEvent } from './events.js';
import type { WebhookSinkConfig } from './config.js';
import { SinkRefused, type Sink } from './sink.js';

export class WebhookSink implements Sink {
  readonly name: string;

  constructor(private readonly cfg: WebhookSinkConfig) {
    this.name = cfg.name;
  }

  async open(): Promise<void> {}

  async deliver(batch: readonly SinkEvent[]): Promise<void> {
    const body = JSON.stringify({ v: 1, events: batch });
    const h: Record<string, string> = {
      'content-type': 'application/json',
      ...this.cfg.headers,
      'x-hextwin-event': 'sink-batch',
      'x-hextwin-delivery': batch[0]?.eventId ?? '',
    };
    if (this.cfg.secret) h['x-hextwin-signature'] = signBody(this.cfg.secret, Math.floor(Date.now() / 1000), body);
    const res = await fetch(this.cfg.url, { method: 'POST', headers: h, body, redirect: 'manual', signal: AbortSignal.timeout(this.cfg.timeoutMs) });
    await res.arrayBuffer().catch(() => undefined);
    if (res.status >= 200 && res.status < 300) return;
    if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) throw new SinkRefused(`HTTP ${res.status}`);
    throw new Error(`HTTP ${res.status}`);
  }

  async close(): Promise<void> {}
}
