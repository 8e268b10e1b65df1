/**
 * Sends simulated telemetry over the WebSocket ingest connector (`/ingest`, see shared/src/protocol.ts):
 * batch frames numbered by `fid`, at most `window` of them awaiting their ack, all of them sent
 * again after a reconnect (the hello frame names the session, so the server does not apply a frame
 * twice), a refused frame retried later when the refusal says "not now", commands from twins
 * acknowledged and handed to the simulated devices.
 */
import type { Logger } from 'pino';
import WebSocket from 'ws';
import { HextwinError } from '@hextwin/shared';
import type { ServerFrame } from '@hextwin/shared/protocol';
import { CloseCode, parseServerFrame, stringifyFrame } from '@hextwin/shared/protocol';
import type { WireEnvelope } from './fleet.js';
import type { DeviceCommand, Sender } from './sender.js';
import { FailureLog, RETRYABLE_CODES, emptyStats } from './sender.js';

export interface WsSenderOptions {
  /** ws://host:port/ingest */
  url: string;
  /** API key, sent as a bearer header and in the hello frame */
  key?: string;
  /** frames awaiting an ack before `send` waits (default 32) */
  window?: number;
  logger: Logger;
}

interface PendingFrame {
  fid: number;
  count: number;
  text: string;
  transmitted: boolean;
  attempts: number;
  retry: NodeJS.Timeout | undefined;
}

const HEARTBEAT_MS = 10_000;
/** a connection silent this long (no pong, no ack) is dead */
const DEAD_AFTER_MS = 30_000;
const MAX_BACKOFF_MS = 5_000;

export class WsSender implements Sender {
  readonly stats = emptyStats();
  private readonly window: number;
  private readonly log: Logger;
  private readonly pending = new Map<number, PendingFrame>();
  private readonly listeners: ((c: DeviceCommand) => void)[] = [];
  private readonly refusals: FailureLog;
  private readonly closures: FailureLog;
  private waiters: (() => void)[] = [];
  private ws: WebSocket | undefined;
  private open = false;
  private closing = false;
  private fatal: Error | undefined;
  private sessionId: string | undefined;
  private maxBatch = Number.POSITIVE_INFINITY;
  private nextFid = 1;
  private throttledUntil = 0;
  private backoffMs = 100;
  private lastHeard = 0;
  private heartbeat: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: WsSenderOptions) {
    this.window = Math.max(1, options.window ?? 32);
    this.log = options.logger;
    this.refusals = new FailureLog((n, text) => this.log.warn({ refusals: n }, `server refused a frame: ${text}`));
    this.closures = new FailureLog((n, text) => this.log.warn({ reconnects: n }, text), 3, 20);
    this.connect();
  }

  /** The session the server named in its welcome (resumed after a reconnect), once welcomed. */
  get session(): string | undefined {
    return this.sessionId;
  }

  onCommand(listener: (c: DeviceCommand) => void): void {
    this.listeners.push(listener);
  }

  async send(batch: WireEnvelope[]): Promise<void> {
    for (let from = 0; from < batch.length;) {
      while (this.pending.size >= this.window || Date.now() < this.throttledUntil) {
        if (this.fatal) throw this.fatal;
        if (this.closing) throw new Error('the WebSocket sender is closed');
        // woken by an ack, a refusal or a closed connection; a throttle ends on its own
        const throttled = this.throttledUntil - Date.now();
        await this.wait(throttled > 0 ? throttled : 60_000);
      }
      if (this.fatal) throw this.fatal;
      if (this.closing) throw new Error('the WebSocket sender is closed');
      const items = batch.slice(from, from + Math.min(batch.length - from, this.maxBatch));
      from += items.length;
      const fid = this.nextFid++;
      const frame: PendingFrame = {
        fid,
        count: items.length,
        text: stringifyFrame({ type: 'batch', fid, items }),
        transmitted: false,
        attempts: 0,
        retry: undefined,
      };
      this.pending.set(fid, frame);
      this.stats.sent += items.length;
      this.stats.inFlight = this.pending.size;
      this.transmit(frame);
    }
  }

  async flush(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.pending.size > 0 && !this.fatal && !this.closing && Date.now() < deadline) await this.wait(deadline - Date.now());
    return this.pending.size === 0;
  }

  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.heartbeat);
    clearTimeout(this.reconnectTimer);
    for (const f of this.pending.values()) clearTimeout(f.retry);
    const ws = this.ws;
    this.wake();
    if (!ws || ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        ws.terminate();
        resolve();
      }, 1_000);
      ws.once('close', () => {
        clearTimeout(force);
        resolve();
      });
      ws.close(CloseCode.Normal);
    });
  }

  private connect(): void {
    const headers: Record<string, string> = this.options.key ? { authorization: `Bearer ${this.options.key}` } : {};
    const ws = new WebSocket(this.options.url, { headers, perMessageDeflate: false, handshakeTimeout: 10_000 });
    this.ws = ws;
    ws.on('open', () => {
      this.open = true;
      this.lastHeard = Date.now();
      ws.send(
        stringifyFrame({ type: 'hello', ...(this.options.key ? { key: this.options.key } : {}), ...(this.sessionId ? { session: this.sessionId } : {}) }),
      );
      // everything not yet acknowledged goes again, in order; the session lets the server skip frames it already applied
      for (const frame of this.pending.values()) {
        clearTimeout(frame.retry);
        frame.retry = undefined;
        this.transmit(frame);
      }
      this.heartbeat = setInterval(() => this.beat(), HEARTBEAT_MS);
      this.heartbeat.unref();
    });
    ws.on('message', (data) => this.onFrame(data.toString()));
    ws.on('error', (e) => this.log.debug({ err: e }, 'ingest connection error'));
    ws.on('close', (code, reason) => {
      this.open = false;
      clearInterval(this.heartbeat);
      if (code === CloseCode.Unauthorized || code === CloseCode.Forbidden) {
        this.fatal = new HextwinError(
          code === CloseCode.Unauthorized ? 'UNAUTHENTICATED' : 'FORBIDDEN',
          `the server closed the ingest connection: ${reason.toString() || code}`,
        );
        this.log.error({ code }, this.fatal.message);
      } else if (!this.closing) {
        this.stats.reconnects++;
        this.closures.report(`ingest connection closed (${code}${reason.length ? ` ${reason.toString()}` : ''}); reconnecting in ${this.backoffMs} ms`);
        this.reconnectTimer = setTimeout(() => this.connect(), this.backoffMs);
        this.backoffMs = Math.min(MAX_BACKOFF_MS, this.backoffMs * 2);
      }
      this.wake();
    });
  }

  private transmit(frame: PendingFrame): void {
    if (!this.open || !this.ws) return;
    if (frame.transmitted) this.stats.resent += frame.count;
    frame.transmitted = true;
    this.ws.send(frame.text);
  }

  private beat(): void {
    if (!this.open || !this.ws) return;
    if (Date.now() - this.lastHeard > DEAD_AFTER_MS) {
      this.log.warn('ingest connection silent for too long; reconnecting');
      this.ws.terminate();
      return;
    }
    this.ws.send(stringifyFrame({ type: 'ping' }));
  }

  private onFrame(text: string): void {
    let f: ServerFrame;
    try {
      f = parseServerFrame(text);
    } catch (e) {
      this.log.warn({ err: e }, 'unreadable frame from the server');
      return;
    }
    this.lastHeard = Date.now();
    switch (f.type) {
      case 'welcome':
        this.sessionId = f.session;
        if (f.maxBatch > 0) this.maxBatch = f.maxBatch;
        this.backoffMs = 100;
        break;
      case 'ack': {
        const frame = this.pending.get(Number(f.fid));
        if (!frame) break;
        clearTimeout(frame.retry);
        this.pending.delete(frame.fid);
        this.stats.acked += frame.count;
        this.backoffMs = 100;
        break;
      }
      case 'error': {
        const frame = f.fid === undefined ? undefined : this.pending.get(Number(f.fid));
        if (frame && RETRYABLE_CODES.has(f.code)) {
          frame.attempts++;
          clearTimeout(frame.retry);
          frame.retry = setTimeout(() => this.transmit(frame), Math.min(MAX_BACKOFF_MS, 50 * 2 ** frame.attempts));
        } else if (frame) {
          this.pending.delete(frame.fid);
          this.stats.errors += frame.count;
          this.refusals.report(`${f.code}: ${f.message}`);
        } else {
          this.refusals.report(`${f.code}: ${f.message}`);
        }
        break;
      }
      case 'command':
        this.stats.commands++;
        this.ws?.send(stringifyFrame({ type: 'cmd-ack', cids: [f.cid] }));
        for (const l of this.listeners) l({ model: f.model, id: f.id, command: f.command });
        break;
      case 'throttle':
        this.throttledUntil = Date.now() + Math.max(0, f.retryAfterMs);
        break;
      case 'pong':
        break;
    }
    this.stats.inFlight = this.pending.size;
    this.wake();
  }

  private wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const resolve of w) resolve();
  }
}
