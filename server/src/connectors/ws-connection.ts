/**
 * One device or gateway connection on /ingest: authentication (hello frame or Authorization
 * header), data frames acknowledged by fid once durable, idempotent re-sends within a session,
 * commands pushed down, and back-pressure (stops reading while the engine is overloaded or while
 * the client does not read what we send). What may go in is admission's call (admission.ts).
 */
import type { RawData, WebSocket } from 'ws';
import { HextwinError, toCoded, type ErrorCode } from '@hextwin/shared';
import {
  CloseCode,
  MAX_FID_LENGTH,
  ProtocolError,
  stringifyFrame,
  validateClientFrame,
  type ClientFrame,
  type FrameId,
  type ServerFrame,
  type WireEnvelope,
} from '@hextwin/shared/protocol';
import type { Logger } from 'pino';
import type { Auth, Principal } from '../auth/auth.js';
import type { Config } from '../config.js';
import type { CommandRecord, EngineApi } from '../engine/types.js';
import type { ConnectorCounters } from './connector-metrics.js';
import { MAX_JSON_DEPTH, nestsDeeperThan } from './json-depth.js';
import type { Admission, Lane } from './admission.js';
import type { Session, SessionStore } from './ws-sessions.js';

/** What a connection needs from its connector. */
export interface ConnectionHost {
  readonly engine: EngineApi;
  readonly auth: Auth;
  readonly config: Config;
  readonly counters: ConnectorCounters;
  readonly logger: Logger;
  readonly sessions: SessionStore;
  readonly admission: Admission;
  /** the connection now holds the session (an older holder is closed) */
  attached(conn: IngestConnection, session: Session): void;
  detached(conn: IngestConnection, session: Session): void;
}

/** Frames refused for the rate limit in a row before the connection is closed with 4429. */
export const MAX_IGNORED_THROTTLES = 50;
/** ms a connection has to authenticate (hello with a key) when no Authorization header came. */
export const AUTH_TIMEOUT_MS = 10_000;
/** Bytes queued for sending to a client that does not read, before we stop reading from it. */
const SEND_HIGH_WATER = 4 * 1024 * 1024;
const SEND_LOW_WATER = 1024 * 1024;

const PAUSE_OVERLOAD = 1;
const PAUSE_SLOW_READER = 2;
const PAUSE_CLOSING = 4;

interface HeldFrame {
  fid: FrameId;
  items: WireEnvelope[];
  t0: number;
}

export class IngestConnection {
  /** set by any frame or pong; the heartbeat drops a connection that stays silent for an interval */
  alive = true;
  session: Session | null = null;
  /** set once authenticated (Authorization header at the upgrade, or the hello's key) */
  private lane: Lane | null;
  private throttledInARow = 0;
  private lastThrottleAt = -Infinity;
  private held: HeldFrame[] = [];
  private waitingForEngine = false;
  private pauseReasons = 0;
  private slowSince = 0;
  private drainPoll: NodeJS.Timeout | null = null;
  private authTimer: NodeJS.Timeout | null = null;
  /** twins whose queued commands were already pushed on this connection: model -> ids */
  private readonly seen = new Map<string, Set<string>>();
  private readonly pushed = new Set<string>();
  /** frames submitted and not yet acknowledged or refused */
  private inflight = 0;
  /** set once the connection is to be closed: no more frames are read */
  private closing: { code: number; reason: string } | null = null;
  closed = false;

  constructor(
    readonly ws: WebSocket,
    private readonly host: ConnectionHost,
    headerLane: Lane | null,
  ) {
    this.lane = headerLane;
    if (!this.lane) {
      this.authTimer = setTimeout(() => this.closeWith(CloseCode.Unauthorized, 'UNAUTHENTICATED', 'no hello with a key in time'), AUTH_TIMEOUT_MS);
      this.authTimer.unref();
    }
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    ws.on('pong', () => (this.alive = true));
    ws.on('error', (e: Error & { code?: string }) => {
      // ws closes the socket itself (1009 for an oversized frame, 1002/1007 for broken framing)
      host.counters.error(e.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? 'PAYLOAD_TOO_LARGE' : 'INVALID_FRAME');
    });
    ws.on('close', () => this.onClose());
  }

  /** Paused connections are not read, so their pongs cannot arrive: the heartbeat spares them. */
  get paused(): boolean {
    return this.pauseReasons !== 0;
  }

  /**
   * ms this connection has not been reading what we send (0 when it is): a client that stays so
   * long cannot be told from a dead one, since its pongs are not read either.
   */
  stalledFor(now: number): number {
    return this.pauseReasons & PAUSE_SLOW_READER ? now - this.slowSince : 0;
  }

  // ------------------------------------------------------------------ incoming

  private onMessage(data: RawData, isBinary: boolean): void {
    this.alive = true;
    if (this.closing) return;
    const t0 = performance.now();
    if (isBinary) return this.refuse(undefined, 'INVALID_FRAME', 'binary frames are not part of the protocol; send JSON text frames');
    const buf = data as Buffer;
    if (nestsDeeperThan(buf)) return this.refuse(undefined, 'INVALID_MESSAGE', `the frame nests objects or arrays more than ${MAX_JSON_DEPTH} levels deep`);
    let val: unknown;
    try {
      val = JSON.parse(buf.toString());
    } catch {
      return this.refuse(undefined, 'INVALID_JSON', 'the frame is not valid JSON');
    }
    let frame: ClientFrame;
    try {
      frame = validateClientFrame(val);
    } catch (e) {
      const fid = (val as { fid?: unknown } | null)?.fid;
      const echo = (typeof fid === 'string' && fid.length <= MAX_FID_LENGTH) || typeof fid === 'number' ? fid : undefined;
      return this.refuse(echo, 'INVALID_FRAME', (e as ProtocolError).message);
    }
    if (frame.type === 'hello') return this.hello(frame.key, frame.session);
    if (!this.session && !this.begin(undefined)) return;
    switch (frame.type) {
      case 'msg':
        return this.data(frame.fid, [{ model: frame.model, id: frame.id, message: frame.message }], t0);
      case 'batch':
        return this.data(frame.fid, frame.items, t0);
      case 'cmd-ack':
        return this.commandAck(frame.cids);
      case 'ping':
        return this.send({ type: 'pong' });
    }
  }

  private hello(key: string | undefined, resume: string | undefined): void {
    if (this.session) return this.refuse(undefined, 'INVALID_FRAME', 'hello must be the first frame of a connection');
    if (key !== undefined) {
      let principal: Principal;
      try {
        principal = this.host.auth.authenticate(key);
      } catch (e) {
        return this.closeWith(CloseCode.Unauthorized, 'UNAUTHENTICATED', toCoded(e).message);
      }
      if (this.lane?.principal !== principal) {
        this.lane?.close();
        this.lane = null;
        try {
          this.lane = this.host.admission.open(principal);
        } catch (e) {
          return this.closeWith(CloseCode.RateLimited, 'TOO_MANY_CONNECTIONS', toCoded(e).message);
        }
      }
    }
    this.begin(resume);
  }

  /** Open (or resume) the session and say welcome; false when the connection is not authenticated. */
  private begin(resume: string | undefined): boolean {
    if (!this.lane) {
      this.closeWith(CloseCode.Unauthorized, 'UNAUTHENTICATED', 'send {"type":"hello","key":"..."} first, or an Authorization header');
      return false;
    }
    if (this.authTimer) clearTimeout(this.authTimer);
    const sessions = this.host.sessions;
    const owner = this.lane.principal.name;
    const found = resume ? sessions.find(resume, owner, Date.now()) : undefined;
    this.session = found ?? sessions.create(owner, this);
    this.host.attached(this, this.session);
    const { maxBodyBytes, maxBatch, wsHeartbeatMs } = this.host.config;
    this.send({ type: 'welcome', session: this.session.id, resumed: found !== undefined, maxFrameBytes: maxBodyBytes, maxBatch, heartbeatMs: wsHeartbeatMs });
    return true;
  }

  private data(fid: FrameId, items: WireEnvelope[], t0: number): void {
    const session = this.session!;
    const earlier = session.frame(fid);
    if (earlier !== undefined) {
      // a re-send of a frame this session already accepted: acknowledge, never apply twice
      if (typeof earlier === 'number') this.send({ type: 'ack', fid, accepted: earlier });
      else
        earlier.then(
          (n) => this.send({ type: 'ack', fid, accepted: n }),
          (e) => this.refuse(fid, toCoded(e).code, toCoded(e).message),
        );
      return;
    }
    try {
      this.host.admission.admit(this.lane!, items, t0);
    } catch (e) {
      const coded = toCoded(e);
      if (coded.code === 'RATE_LIMITED') return this.throttle(fid, coded);
      return this.refuse(fid, coded.code, coded.message);
    }
    this.throttledInARow = 0;
    if (this.held.length > 0 || this.host.admission.overloaded) {
      if (this.held.some((h) => h.fid === fid)) return; // already waiting: acknowledged once it goes in
      this.held.push({ fid, items, t0 });
      this.waitForEngine();
      return;
    }
    this.submit(fid, items, t0);
  }

  private submit(fid: FrameId, items: WireEnvelope[], t0: number): void {
    const session = this.session!;
    const attempt = this.host.admission.submit(items, session.source).then(() => items.length);
    session.track(fid, attempt);
    this.inflight++;
    attempt
      .then(
        (n) => {
          session.track(fid, n);
          this.host.counters.messagesIn.inc(n);
          if (this.closed) return;
          this.send({ type: 'ack', fid, accepted: n });
          this.host.counters.ackSeconds.observe((performance.now() - t0) / 1000);
          this.pushQueuedCommands(items);
        },
        (e) => {
          session.forget(fid, attempt);
          const coded = toCoded(e);
          if (coded.code === 'INTERNAL') this.host.logger.error({ err: e }, 'WebSocket ingest failed');
          this.refuse(fid, coded.code, coded.message);
        },
      )
      .finally(() => {
        this.inflight--;
        if (this.inflight === 0 && this.closing) this.finishClosing();
      });
  }

  /** Refuse a frame over the rate limit; a client that keeps sending while throttled is closed. */
  private throttle(fid: FrameId, refusal: HextwinError): void {
    const now = performance.now();
    const retryAfterMs = Number(refusal.details?.retryAfterMs ?? 1_000);
    this.throttledInARow++;
    this.refuse(fid, 'RATE_LIMITED', refusal.message);
    if (this.throttledInARow > MAX_IGNORED_THROTTLES) {
      // stop reading, acknowledge what was already accepted, then close
      this.host.counters.error('RATE_LIMITED');
      this.send({ type: 'error', code: 'RATE_LIMITED', message: 'the throttle was ignored: closing' });
      this.closing = { code: CloseCode.RateLimited, reason: 'the throttle was ignored' };
      this.held = [];
      this.pause(PAUSE_CLOSING);
      if (this.inflight === 0) this.finishClosing();
      return;
    }
    if (now - this.lastThrottleAt >= retryAfterMs) {
      this.lastThrottleAt = now;
      this.send({ type: 'throttle', retryAfterMs });
    }
  }

  // ------------------------------------------------------------------ back-pressure

  /** Stop reading until the engine accepts again; held frames then go in, in arrival order. */
  private waitForEngine(): void {
    if (this.waitingForEngine) return;
    this.waitingForEngine = true;
    this.host.counters.backpressure.inc();
    this.pause(PAUSE_OVERLOAD);
    void this.host.admission.whenAccepting().then(() => {
      this.waitingForEngine = false;
      if (this.closed) return;
      while (this.held.length > 0 && !this.host.admission.overloaded) {
        const h = this.held.shift()!;
        this.submit(h.fid, h.items, h.t0);
      }
      if (this.held.length > 0) this.waitForEngine();
      else this.resume(PAUSE_OVERLOAD);
    });
  }

  private pause(reason: number): void {
    if (this.pauseReasons === 0) this.ws.pause();
    this.pauseReasons |= reason;
  }

  private resume(reason: number): void {
    if (!(this.pauseReasons & reason)) return;
    this.pauseReasons &= ~reason;
    if (this.pauseReasons === 0 && !this.closed) {
      this.alive = true;
      this.ws.resume();
    }
  }

  // ------------------------------------------------------------------ outgoing

  send(frame: ServerFrame): void {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) return;
    this.ws.send(stringifyFrame(frame));
    if (this.ws.bufferedAmount > SEND_HIGH_WATER && !(this.pauseReasons & PAUSE_SLOW_READER)) {
      // the client does not read its acks and commands: stop reading its frames until it catches up
      this.pause(PAUSE_SLOW_READER);
      this.slowSince = Date.now();
      this.drainPoll = setInterval(() => {
        if (this.closed || this.ws.bufferedAmount < SEND_LOW_WATER) {
          clearInterval(this.drainPoll!);
          this.drainPoll = null;
          this.resume(PAUSE_SLOW_READER);
        }
      }, 20);
    }
  }

  private refuse(fid: FrameId | undefined, code: ErrorCode, message: string): void {
    this.host.counters.error(code);
    this.send(fid === undefined ? { type: 'error', code, message } : { type: 'error', fid, code, message });
  }

  private finishClosing(): void {
    if (this.closed || !this.closing) return;
    // read again so the client's close frame completes the handshake (frames are ignored now)
    this.pauseReasons = 0;
    this.ws.resume();
    this.ws.close(this.closing.code, this.closing.reason);
  }

  private closeWith(closeCode: number, code: ErrorCode, reason: string): void {
    this.refuse(undefined, code, reason);
    if (!this.closed) this.ws.close(closeCode, reason.slice(0, 120));
  }

  /** Push a command to the device; it stays queued until the device sends cmd-ack. */
  pushCommand(record: CommandRecord): void {
    if (this.closed || this.pushed.has(record.cid)) return;
    this.pushed.add(record.cid);
    this.session!.cidTwins.set(record.cid, { model: record.model, id: record.id });
    this.send({ type: 'command', cid: record.cid, model: record.model, id: record.id, command: record.command });
    this.host.counters.commandsDelivered.inc();
  }

  /** The first time a twin is seen on this connection, push the commands queued for it meanwhile. */
  private pushQueuedCommands(items: WireEnvelope[]): void {
    let model = '';
    let ids: Set<string> | undefined;
    for (let i = 0; i < items.length; i++) {
      const it = items[i]!;
      if (it.model !== model) {
        model = it.model;
        ids = this.seen.get(model);
        if (!ids) this.seen.set(model, (ids = new Set()));
      }
      if (ids!.has(it.id)) continue;
      ids!.add(it.id);
      for (const c of this.host.engine.pendingCommands(it.model, it.id)) this.pushCommand(c);
    }
  }

  private commandAck(cids: string[]): void {
    const session = this.session!;
    const byTwin = new Map<string, { model: string; id: string; cids: string[] }>();
    for (const cid of cids) {
      const t = session.cidTwins.get(cid);
      if (!t) continue;
      session.cidTwins.delete(cid);
      this.pushed.delete(cid);
      const k = t.model + '/' + t.id;
      let g = byTwin.get(k);
      if (!g) byTwin.set(k, (g = { ...t, cids: [] }));
      g.cids.push(cid);
    }
    for (const g of byTwin.values()) {
      this.host.engine.ackCommands(g.model, g.id, g.cids).catch((e) => this.host.logger.warn({ err: e }, 'command ack failed'));
    }
  }

  // ------------------------------------------------------------------ lifecycle

  /** A newer connection resumed this one's session: stop at once, then close. */
  supersede(): void {
    this.shutdown();
    this.ws.close(CloseCode.GoingAway, 'session resumed on another connection');
  }

  private onClose(): void {
    this.shutdown();
  }

  private shutdown(): void {
    if (this.closed) return;
    this.closed = true;
    // held frames were never submitted: the client re-sends them (a resumed session would otherwise apply them twice)
    this.held = [];
    if (this.authTimer) clearTimeout(this.authTimer);
    if (this.drainPoll) clearInterval(this.drainPoll);
    this.lane?.close();
    if (this.session) this.host.detached(this, this.session);
  }
}
