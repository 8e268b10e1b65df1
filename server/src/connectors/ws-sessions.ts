/**
 * WebSocket ingest sessions. A session outlives its connection for a while so that a client that
 * reconnects and resumes it (hello {session}) can re-send frames whose ack it lost: a frame id the
 * session already accepted is acknowledged again, never applied twice. Bounded: the most recent
 * MAX_FIDS frame ids per session and at most MAX_FID_BYTES of them (string fids are at most
 * MAX_FID_LENGTH characters), closed sessions kept SESSION_TTL_MS, at most MAX_CLOSED of them.
 */
import { randomBytes } from 'node:crypto';
import type { FrameId } from '@hextwin/shared/protocol';
import type { SourceRef } from '../engine/types.js';

export const MAX_FIDS = 2_048;
/** what the remembered fids of one session may weigh (estimated: 2 bytes a character, 64 an entry) */
export const MAX_FID_BYTES = 128 * 1024;
const fidBytes = (fid: FrameId) => 64 + (typeof fid === 'string' ? 2 * fid.length : 0);
export const SESSION_TTL_MS = 5 * 60_000;
export const MAX_CLOSED = 1_000;

export class Session {
  /** accepted frame ids: the accepted count once durable, or the promise of it while in flight */
  private readonly fids = new Map<FrameId, number | Promise<number>>();
  private fidBytes = 0;
  /** commands pushed down this session and not yet acknowledged: cid -> twin */
  readonly cidTwins = new Map<string, { model: string; id: string }>();
  /** the SourceRef of every message accepted in this session: commands find their way back by it */
  readonly source: SourceRef;
  /** the connection holding the session, or null once it closed */
  holder: object | null = null;
  closedAt = 0;

  constructor(
    readonly id: string,
    readonly owner: string,
  ) {
    this.source = { connector: 'ws', connection: id };
  }

  frame(fid: FrameId): number | Promise<number> | undefined {
    return this.fids.get(fid);
  }

  track(fid: FrameId, accepted: number | Promise<number>): void {
    if (this.fids.delete(fid)) this.fidBytes -= fidBytes(fid);
    this.fids.set(fid, accepted);
    this.fidBytes += fidBytes(fid);
    while (this.fids.size > MAX_FIDS || this.fidBytes > MAX_FID_BYTES) {
      const oldest = this.fids.keys().next().value!;
      this.fids.delete(oldest);
      this.fidBytes -= fidBytes(oldest);
    }
  }

  /** A frame failed: it may be re-sent and applied. */
  forget(fid: FrameId, attempt: Promise<number>): void {
    if (this.fids.get(fid) === attempt) {
      this.fids.delete(fid);
      this.fidBytes -= fidBytes(fid);
    }
  }

  /** Estimated bytes of the remembered fids (bounded by MAX_FID_BYTES). */
  get rememberedFidBytes(): number {
    return this.fidBytes;
  }
}

export class SessionStore {
  private readonly sessions = new Map<string, Session>();
  private closed = 0;

  /** A new session for the principal named `owner`, held by `holder`. */
  create(owner: string, holder: object): Session {
    const s = new Session(randomBytes(12).toString('base64url'), owner);
    s.holder = holder;
    this.sessions.set(s.id, s);
    return s;
  }

  /**
   * The session to resume, when it is known, not expired and was opened by the same principal.
   * It may still be held by an older connection (a half-open socket not yet reaped): the caller
   * takes it over with `attach`.
   */
  find(id: string, owner: string, now: number): Session | undefined {
    const s = this.sessions.get(id);
    if (!s || s.owner !== owner) return undefined;
    if (!s.holder && now - s.closedAt > SESSION_TTL_MS) return undefined;
    return s;
  }

  attach(s: Session, holder: object): void {
    if (!s.holder) this.closed--;
    s.holder = holder;
  }

  /** The connection holding a session went away. */
  release(s: Session, holder: object, now: number): void {
    if (s.holder !== holder) return;
    s.holder = null;
    s.closedAt = now;
    this.closed++;
    if (this.closed > MAX_CLOSED) this.sweep(now, true);
  }

  /** Forget expired closed sessions (and, when over MAX_CLOSED, the oldest closed ones). */
  sweep(now: number, evictOldest = false): void {
    for (const [id, s] of this.sessions) {
      if (s.holder) continue;
      if (now - s.closedAt > SESSION_TTL_MS || (evictOldest && this.closed > MAX_CLOSED)) {
        this.sessions.delete(id);
        this.closed--;
      }
    }
  }

  get size(): number {
    return this.sessions.size;
  }
}
