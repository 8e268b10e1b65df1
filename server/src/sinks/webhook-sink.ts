/**
 * Webhook sink: each batch is one POST of `{"v":1,"events":[...]}` with headers
 * `x-hextwin-event: sink-batch`, `x-hextwin-delivery: <first event id>` and, when a secret is set,
 * `x-hextwin-signature: sha256=<hex HMAC-SHA256 of the body>`. Redirects are not followed (a 3xx
 * is a failure, retried); 2xx is delivered; 408, 429 and 5xx are retried; any other 4xx refuses
 * the batch for good (it is dropped and counted).
 */
import { createHmac } from 'node:crypto';
import type { SinkEvent } from './events.js';
import type { WebhookSinkConfig } from './config.js';
import { SinkRefused, type Sink } from './sink.js';

export function signBody(secret: string, body: string): string {
  return 'sha256=' + createHmac('sha256', secret).update(body).digest('hex');
}

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
    if (this.cfg.secret) h['x-hextwin-signature'] = signBody(this.cfg.secret, body);
    const res = await fetch(this.cfg.url, { method: 'POST', headers: h, body, redirect: 'manual', signal: AbortSignal.timeout(this.cfg.timeoutMs) });
    await res.arrayBuffer().catch(() => undefined);
    if (res.status >= 200 && res.status < 300) return;
    if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) throw new SinkRefused(`HTTP ${res.status}`);
    throw new Error(`HTTP ${res.status}`);
  }

  async close(): Promise<void> {}
}
