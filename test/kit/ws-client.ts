/**
 * A WebSocket ingest client speaking shared/src/protocol.ts, for tests and benches: frames are
 * acknowledged by fid (send resolves with the accepted count, or rejects with the refusal's code),
 * commands and connection-level errors are collected.
 */
import WebSocket from 'ws';
import {
  parseServerFrame,
  stringifyFrame,
  type ClientFrame,
  type CommandFrame,
  type ErrorFrame,
  type FrameId,
  type ServerFrame,
  type ThrottleFrame,
  type WelcomeFrame,
  type WireEnvelope,
} from '@hextwin/shared/protocol';

/** A frame or request refused with a coded error. */
export class Refusal extends Error {
  override readonly name = 'Refusal';
  constructor(
    readonly code: string,
    message: string,
    readonly status?: number,
  ) {
    super(`${code}: ${message}`);
  }
}

export interface WsConnectOptions {
  /** API key: sent in the hello frame, or as an Authorization header with `keyInHeader` */
  key?: string;
  keyInHeader?: boolean;
  /** resume this session */
  session?: string;
  /** send no hello (the first data frame opens the session) */
  noHello?: boolean;
}

type Waiter<T> = { pred: (x: T) => boolean; resolve: (x: T) => void };

export class WsClient {
  welcome: WelcomeFrame | null = null;
  readonly commands: CommandFrame[] = [];
  readonly errors: ErrorFrame[] = [];
  readonly throttles: ThrottleFrame[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private fid = 0;
  private readonly pending = new Map<FrameId, { resolve: (n: number) => void; reject: (e: Refusal) => void }>();
  private commandWaiters: Waiter<CommandFrame>[] = [];
  private errorWaiters: Waiter<ErrorFrame>[] = [];
  private welcomeWaiter: ((w: WelcomeFrame) => void) | null = null;
  private pongWaiters: (() => void)[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => this.onFrame(parseServerFrame(data.toString())));
    this.closed = new Promise((resolve) =>
      ws.once('close', (code, reason) => {
        const r = new Refusal('CLOSED', `connection closed with ${code} ${reason.toString()}`);
        for (const p of this.pending.values()) p.reject(r);
        this.pending.clear();
        resolve({ code, reason: reason.toString() });
      }),
    );
    ws.on('error', () => undefined);
  }

  static async connect(url: string, opts: WsConnectOptions = {}): Promise<WsClient> {
    const wsUrl = url.replace(/^http/, 'ws') + '/ingest';
    const ws = new WebSocket(wsUrl, { headers: opts.key && opts.keyInHeader ? { authorization: `Bearer ${opts.key}` } : {}, perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) =>
        reject(new Refusal(res.statusCode === 401 ? 'UNAUTHENTICATED' : `HTTP_${res.statusCode}`, `upgrade refused with ${res.statusCode}`, res.statusCode)),
      );
    });
    const c = new WsClient(ws);
    if (!opts.noHello) {
      const welcome = new Promise<WelcomeFrame>((r) => (c.welcomeWaiter = r));
      c.frame({ type: 'hello', ...(opts.key && !opts.keyInHeader ? { key: opts.key } : {}), ...(opts.session ? { session: opts.session } : {}) });
      c.welcome = await Promise.race([
        welcome,
        c.closed.then(({ code, reason }) => Promise.reject(new Refusal(code === 4401 ? 'UNAUTHENTICATED' : 'CLOSED', `closed ${code} ${reason}`))),
      ]);
    }
    return c;
  }

  private onFrame(f: ServerFrame): void {
    switch (f.type) {
      case 'welcome':
        this.welcome = f;
        this.welcomeWaiter?.(f);
        break;
      case 'ack': {
        const p = this.pending.get(f.fid);
        this.pending.delete(f.fid);
        p?.resolve(f.accepted);
        break;
      }
      case 'error': {
        const p = f.fid !== undefined ? this.pending.get(f.fid) : undefined;
        if (p) {
          this.pending.delete(f.fid!);
          p.reject(new Refusal(f.code, f.message));
        } else {
          const i = this.errorWaiters.findIndex((w) => w.pred(f));
          if (i >= 0) this.errorWaiters.splice(i, 1)[0]!.resolve(f);
          else this.errors.push(f);
        }
        break;
      }
      case 'command':
        this.commands.push(f);
        this.commandWaiters = this.commandWaiters.filter((w) => !(w.pred(f) && (w.resolve(f), true)));
        break;
      case 'throttle':
        this.throttles.push(f);
        break;
      case 'pong':
        this.pongWaiters.shift()?.();
        break;
    }
  }

  frame(f: ClientFrame): void {
    this.ws.send(stringifyFrame(f));
  }

  raw(data: string | Buffer, binary = false): void {
    this.ws.send(data, { binary });
  }

  /** Send one batch frame (or a msg frame for one item); resolves with the accepted count once acknowledged. */
  send(items: WireEnvelope[], fid: FrameId = ++this.fid): Promise<number> {
    const p = this.outcome(fid);
    if (items.length === 1) this.frame({ type: 'msg', fid, ...items[0]! });
    else this.frame({ type: 'batch', fid, items });
    return p;
  }

  /** The ack (accepted count) or refusal of the frame with this fid, e.g. one sent with `raw`. */
  outcome(fid: FrameId): Promise<number> {
    return new Promise<number>((resolve, reject) => this.pending.set(fid, { resolve, reject }));
  }

  /** The next command frame matching `pred` (already received or still to come). */
  nextCommand(pred: (c: CommandFrame) => boolean = () => true, timeoutMs = 10_000): Promise<CommandFrame> {
    const have = this.commands.find(pred);
    if (have) return Promise.resolve(have);
    return withTimeout(new Promise((resolve) => this.commandWaiters.push({ pred, resolve })), timeoutMs, 'a command frame');
  }

  /** The next connection-level error frame (one without a pending fid). */
  nextError(pred: (e: ErrorFrame) => boolean = () => true, timeoutMs = 10_000): Promise<ErrorFrame> {
    const i = this.errors.findIndex(pred);
    if (i >= 0) return Promise.resolve(this.errors.splice(i, 1)[0]!);
    return withTimeout(new Promise((resolve) => this.errorWaiters.push({ pred, resolve })), timeoutMs, 'an error frame');
  }

  /** Resolves once the server answered a ping sent now (it has read every earlier frame), or the connection closed. */
  roundTrip(): Promise<void> {
    if (this.ws.readyState !== WebSocket.OPEN) return Promise.resolve();
    const pong = new Promise<void>((r) => this.pongWaiters.push(r));
    this.frame({ type: 'ping' });
    return Promise.race([pong, this.closed.then(() => undefined)]);
  }

  ackCommands(cids: string[]): void {
    this.frame({ type: 'cmd-ack', cids });
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    this.ws.close();
    await this.closed;
  }

  /** Drop the TCP connection without a closing handshake (a lost network). */
  terminate(): void {
    this.ws.terminate();
  }
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => (t = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms))),
  ]).finally(() => clearTimeout(t));
}
