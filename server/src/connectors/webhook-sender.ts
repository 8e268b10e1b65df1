/**
 * Delivers JSON bodies to one webhook URL: one POST at a time in order, retried with exponential
 * back-off (honouring Retry-After on 429/503), from a bounded queue that drops its oldest entry
 * when full. A 4xx answer other than 408/429 is final: retrying would not help.
 * Redirects are not followed (a 3xx is a failed attempt: following one would carry the secret
 * headers to wherever the receiver points, SSRF); the answer's body is never kept: at most
 * MAX_RESPONSE_BYTES of it is read and dropped, then the connection is cut. With a `secret`, each
 * body is signed: `x-hextwin-signature: t=<unix s>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
 * With a journal (webhook-journal.ts) every body is kept on disk until it is delivered or given
 * up, and a new sender starts with what an earlier process still owed.
 */
import { createHmac } from 'node:crypto';
import type { WebhookJournal } from './webhook-journal.js';
export interface WebhookTarget {
  name: string;
  url: string;
  headers: Record<string, string>;
  /** attempts per body before giving up */
  maxAttempts: number;
  /** first retry delay; doubles each attempt, capped at 60 s */
  retryBaseMs: number;
  /** bodies waiting at most */
  maxQueue: number;
  /** ms before an attempt is abandoned */
  timeoutMs: number;
  /** HMAC-SHA256 key signing every body (x-hextwin-signature), when set */
  secret?: string;
}

/** Bytes of a receiver's answer read (and discarded) at most before the connection is cut. */
export const MAX_RESPONSE_BYTES = 64 * 1024;

/** The signature header value of `body` sent at `unixSeconds`. */
export function signBody(secret: string, unixSeconds: number, body: string): string {
  return `t=${unixSeconds},v1=${createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex')}`;
}

export interface WebhookEvents {
  delivered(): void;
  /** one attempt failed (it may be retried) */
  attemptFailed(reason: string): void;
  /** a body was given up: attempts exhausted, refused for good, or dropped from a full queue */
  gaveUp(reason: 'exhausted' | 'refused' | 'dropped'): void;
}

const MAX_DELAY_MS = 60_000;

interface Item {
  body: string;
  headers: Record<string, string>;
  attempts: number;
  /** its key in the journal */
  seq: number;
}

export class WebhookSender {
  private readonly queue: Item[] = [];
  private busy = false;
  private timer: NodeJS.Timeout | null = null;
  private abort: AbortController | null = null;
  private stopped = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    readonly target: WebhookTarget,
    private readonly events: WebhookEvents,
    private readonly journal?: WebhookJournal,
  ) {
    if (!journal) return;
    for (const e of journal.pending(target.name)) this.queue.push({ body: e.body, headers: e.headers, attempts: 0, seq: e.seq });
    if (this.queue.length) void this.next();
  }

  get depth(): number {
    return this.queue.length;
  }

  enqueue(body: unknown, headers: Record<string, string> = {}): void {
    if (this.stopped) return;
    if (this.queue.length >= this.target.maxQueue) {
      // drop the oldest body not in flight; with no room at all, the new one
      const oldest = this.busy ? 1 : 0;
      this.events.gaveUp('dropped');
      if (oldest >= this.queue.length) return;
      this.forget(this.queue.splice(oldest, 1)[0]!);
    }
    const text = JSON.stringify(body);
    this.queue.push({ body: text, headers, attempts: 0, seq: this.journal?.add(this.target.name, text, headers) ?? 0 });
    if (!this.busy && !this.timer) void this.next();
  }

  /** Resolves when the queue is empty and nothing is in flight (tests, shutdown). */
  idle(): Promise<void> {
    if (!this.busy && !this.timer && this.queue.length === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.abort?.abort();
    // what the journal holds stays owed: the next process delivers it
    this.queue.length = 0;
    this.wakeIdle();
  }

  private async next(): Promise<void> {
    const item = this.queue[0];
    if (!item || this.stopped) return this.wakeIdle();
    this.busy = true;
    item.attempts++;
    const outcome = await this.attempt(item);
    this.busy = false;
    if (this.stopped) return;
    if (outcome.ok) {
      this.forget(this.queue.shift()!);
      this.events.delivered();
      return void this.next();
    }
    this.events.attemptFailed(outcome.reason);
    if (outcome.final || item.attempts >= this.target.maxAttempts) {
      this.forget(this.queue.shift()!);
      this.events.gaveUp(outcome.final ? 'refused' : 'exhausted');
      return void this.next();
    }
    const backoff = Math.min(MAX_DELAY_MS, this.target.retryBaseMs * 2 ** (item.attempts - 1));
    const delay = Math.max(outcome.retryAfterMs ?? 0, Math.round(backoff / 2 + (Math.random() * backoff) / 2));
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.next();
    }, delay);
    this.timer.unref();
  }

  private async attempt(item: Item): Promise<{ ok: true } | { ok: false; final: boolean; reason: string; retryAfterMs?: number }> {
    this.abort = new AbortController();
    const timeout = setTimeout(() => this.abort?.abort(), this.target.timeoutMs);
    try {
      const headers: Record<string, string> = { 'content-type': 'application/json', ...this.target.headers, ...item.headers };
      if (this.target.secret) headers['x-hextwin-signature'] = signBody(this.target.secret, Math.floor(Date.now() / 1000), item.body);
      const res = await fetch(this.target.url, { method: 'POST', headers, body: item.body, signal: this.abort.signal, redirect: 'manual' });
      await discard(res, this.abort);
      if (res.status >= 300 && res.status < 400) return { ok: false, final: false, reason: `HTTP ${res.status} (redirects are not followed)` };
      if (res.ok) return { ok: true };
      const retryAfter = Number(res.headers.get('retry-after'));
      const final = res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429;
      return {
        ok: false,
        final,
        reason: `HTTP ${res.status}`,
        retryAfterMs: Number.isFinite(retryAfter) && retryAfter > 0 ? Math.min(retryAfter * 1000, MAX_DELAY_MS) : undefined,
      };
    } catch (e) {
      return { ok: false, final: false, reason: (e as Error).name === 'AbortError' ? 'timeout' : (e as Error).message };
    } finally {
      clearTimeout(timeout);
      this.abort = null;
    }
  }

  private forget(item: Item): void {
    this.journal?.done(this.target.name, item.seq);
  }

  private wakeIdle(): void {
    if (this.busy || this.timer || this.queue.length > 0) return;
    const w = this.idleWaiters;
    this.idleWaiters = [];
    for (const r of w) r();
  }
}

/** Read at most MAX_RESPONSE_BYTES of an answer's body, keeping none of it; cut the rest off. */
async function discard(res: Response, abort: AbortController): Promise<void> {
  if (!res.body) return;
  const reader = res.body.getReader();
  let read = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      read += value.byteLength;
      if (read > MAX_RESPONSE_BYTES) {
        abort.abort();
        return;
      }
    }
  } catch {
    // the answer's status is what counts; a body cut short is no failure
  } finally {
    reader.releaseLock();
  }
}
