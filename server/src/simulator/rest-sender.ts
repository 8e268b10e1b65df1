/**
 * Sends simulated telemetry over the REST connector: `POST /api/v1/messages/{model}/{id}` with the
 * twin's messages of a batch as one JSON array, at most `concurrency` requests in flight over
 * keep-alive connections. 202 `{"accepted": n}` counts as acknowledged; 429 and 503 are retried after
 * their Retry-After; other refusals are counted and logged. Devices on REST pull their commands, so
 * this sender receives none.
 */
import http from 'node:http';
import https from 'node:https';
import type { Logger } from 'pino';
import type { WireEnvelope } from './fleet.js';
import type { DeviceCommand, Sender } from './sender.js';
import { FailureLog, emptyStats } from './sender.js';

export interface RestSenderOptions {
  /** http://host:port */
  baseUrl: string;
  key?: string;
  /** requests in flight (default 16) */
  concurrency?: number;
  logger: Logger;
}

interface Reply {
  status: number;
  retryAfter: string | undefined;
  body: string;
}

const MAX_ATTEMPTS = 20;

export class RestSender implements Sender {
  readonly stats = emptyStats();
  private readonly agent: http.Agent;
  private readonly base: URL;
  private readonly concurrency: number;
  private readonly refusals: FailureLog;
  private readonly inFlight = new Set<Promise<void>>();
  private closed = false;

  constructor(private readonly options: RestSenderOptions) {
    this.base = new URL(options.baseUrl);
    this.concurrency = Math.max(1, options.concurrency ?? 16);
    const Agent = this.base.protocol === 'https:' ? https.Agent : http.Agent;
    this.agent = new Agent({ keepAlive: true, maxSockets: this.concurrency });
    this.refusals = new FailureLog((n, text) => options.logger.warn({ refusals: n }, `server refused a request: ${text}`));
  }

  onCommand(_listener: (c: DeviceCommand) => void): void {
    // commands reach REST devices by pull (GET /api/v1/messages/{model}/{id}); the simulator does not poll
  }

  async send(batch: WireEnvelope[]): Promise<void> {
    if (this.closed) throw new Error('the REST sender is closed');
    // one request per twin, its messages in their order
    const groups = new Map<string, WireEnvelope[]>();
    for (const e of batch) {
      const k = `${e.model}\u0000${e.id}`;
      const g = groups.get(k);
      if (g) g.push(e);
      else groups.set(k, [e]);
    }
    for (const g of groups.values()) {
      while (this.inFlight.size >= this.concurrency) await Promise.race(this.inFlight);
      const p = this.post(g).finally(() => {
        this.inFlight.delete(p);
        this.stats.inFlight = this.inFlight.size;
      });
      this.inFlight.add(p);
      this.stats.inFlight = this.inFlight.size;
      this.stats.sent += g.length;
    }
  }

  async flush(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    while (this.inFlight.size > 0) {
      const done = await Promise.race([Promise.all(this.inFlight).then(() => true), timeout.then(() => false)]);
      if (!done) break;
    }
    clearTimeout(timer);
    return this.inFlight.size === 0;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.agent.destroy();
  }

  private async post(group: WireEnvelope[]): Promise<void> {
    const { model, id } = group[0]!;
    const path = `${this.base.pathname.replace(/\/$/, '')}/api/v1/messages/${encodeURIComponent(model)}/${encodeURIComponent(id)}`;
    const body = JSON.stringify(group.map((e) => e.message));
    for (let attempt = 1; ; attempt++) {
      let reply: Reply;
      try {
        reply = await this.request(path, body);
      } catch (e) {
        if (this.closed || attempt >= MAX_ATTEMPTS) {
          this.stats.errors += group.length;
          this.refusals.report(`${model}/${id}: ${(e as Error).message}`);
          return;
        }
        // the connection failed: the server may be restarting, so send the same request again
        this.stats.resent += group.length;
        await sleep(Math.min(5_000, 100 * 2 ** attempt));
        continue;
      }
      if (reply.status === 202) {
        this.stats.acked += group.length;
        return;
      }
      if ((reply.status === 429 || reply.status === 503) && attempt < MAX_ATTEMPTS && !this.closed) {
        this.stats.resent += group.length;
        await sleep(retryAfterMs(reply.retryAfter, attempt));
        continue;
      }
      this.stats.errors += group.length;
      this.refusals.report(`${model}/${id}: HTTP ${reply.status} ${errorCode(reply.body)}`);
      return;
    }
  }

  private request(path: string, body: string): Promise<Reply> {
    const lib = this.base.protocol === 'https:' ? https : http;
    const headers: Record<string, string> = { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) };
    if (this.options.key) headers.authorization = `Bearer ${this.options.key}`;
    return new Promise((resolve, reject) => {
      const req = lib.request({ host: this.base.hostname, port: this.base.port, path, method: 'POST', headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const h = res.headers['retry-after'];
          resolve({ status: res.statusCode ?? 0, retryAfter: Array.isArray(h) ? h[0] : h, body: Buffer.concat(chunks).toString('utf8') });
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  }
}

/** Retry-After in seconds (or an HTTP date), with exponential back-off when absent. */
export function retryAfterMs(header: string | undefined, attempt: number): number {
  if (header !== undefined) {
    const seconds = Number(header);
    if (Number.isFinite(seconds) && seconds >= 0) return Math.min(60_000, seconds * 1000);
    const date = Date.parse(header);
    if (!Number.isNaN(date)) return Math.min(60_000, Math.max(0, date - Date.now()));
  }
  return Math.min(5_000, 100 * 2 ** attempt);
}

function errorCode(body: string): string {
  try {
    const e = (JSON.parse(body) as { error?: { code?: string; message?: string } }).error;
    return e ? `${e.code}: ${e.message}` : body.slice(0, 200);
  } catch {
    return body.slice(0, 200);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
