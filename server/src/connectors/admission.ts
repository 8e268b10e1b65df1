/**
 * Admission: the one place that decides whether envelopes may go into the engine, for all three
 * connectors (REST, WebSocket, MQTT), so that they keep only their framing. In order, cheapest
 * first: batch size (MAX_BATCH), the key's device scope, the rate limits of the connection
 * (RATE_LIMIT) and of the key across its connections (KEY_RATE_LIMIT), then validation — known
 * model, well-formed id, the model's message schema — exactly once; the engine is then told the
 * envelopes are validated. Connections are counted per key (MAX_CONNECTIONS_PER_KEY). Every
 * refusal is a coded HextwinError; back-pressure (`overloaded`, `whenAccepting`) is the engine's,
 * each connector applies it in its own way (REST refuses, WebSocket stops reading, MQTT holds acks).
 */
import type { RawBatch } from '../store/raw-batch.js';
import { HextwinError } from '@hextwin/shared';
import type { Principal } from '../auth/auth.js';
import type { Config } from '../config.js';
import type { EngineApi, Envelope, SourceRef } from '../engine/types.js';
import { TokenBucket } from './rate-limiter.js';
import { checkWriteScope } from './scope.js';

/** One open connection of one principal, as admission sees it. Close it when the connection goes. */
export interface Lane {
  readonly principal: Principal;
  close(): void;
}

interface KeyState {
  lanes: number;
  bucket: TokenBucket | null;
}

class OpenLane implements Lane {
  closed = false;
  constructor(
    readonly principal: Principal,
    readonly key: KeyState,
    /** null: not rate limited (the MQTT broker link, whose flow the held acks control) */
    readonly bucket: TokenBucket | null,
    private readonly release: () => void,
  ) {}

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.release();
  }
}

export interface LaneOptions {
  /** false for a link that is flow-controlled otherwise (MQTT): no per-connection or per-key rate */
  rateLimited?: boolean;
}

export class Admission {
  /** per key name; bounded by the keys AUTH_FILE lists */
  private readonly keys = new Map<string, KeyState>();

  constructor(
    private readonly engine: EngineApi,
    private readonly config: Pick<Config, 'maxBatch' | 'rateLimit' | 'keyRateLimit' | 'maxConnectionsPerKey'>,
  ) {}

  /** Open a connection for `principal`; throws TOO_MANY_CONNECTIONS over MAX_CONNECTIONS_PER_KEY. */
  open(principal: Principal, opts: LaneOptions = {}): Lane {
    let key = this.keys.get(principal.name);
    const max = this.config.maxConnectionsPerKey;
    if (key && key.lanes >= max && opts.rateLimited !== false) {
      throw new HextwinError('TOO_MANY_CONNECTIONS', `key "${principal.name}" has ${key.lanes} connections open; at most ${max} (MAX_CONNECTIONS_PER_KEY)`);
    }
    const now = performance.now();
    if (!key) {
      key = { lanes: 0, bucket: this.config.keyRateLimit > 0 ? new TokenBucket(this.config.keyRateLimit, now) : null };
      this.keys.set(principal.name, key);
    }
    key.lanes++;
    const limited = opts.rateLimited !== false;
    const bucket = limited && this.config.rateLimit > 0 ? new TokenBucket(this.config.rateLimit, now) : null;
    const state = key;
    // key states stay (one per AUTH_FILE key): reconnecting does not refill a key's bucket
    return new OpenLane(principal, limited ? state : { lanes: 0, bucket: null }, bucket, () => void state.lanes--);
  }

  /** Open connections of a key (tests, metrics). */
  connectionsOf(name: string): number {
    return this.keys.get(name)?.lanes ?? 0;
  }

  /**
   * Everything but back-pressure: throws the coded error these envelopes are refused with, or
   * returns once they may go to the engine (`submit`). Rate tokens are taken only when it passes
   * the scope and size checks; a batch refused by validation has spent them.
   */
  admit(lane: Lane, envelopes: Envelope[], now = performance.now()): void {
    const l = lane as OpenLane;
    const { maxBatch } = this.config;
    if (envelopes.length > maxBatch)
      throw new HextwinError('TOO_MANY_MESSAGES', `${envelopes.length} messages in one request; at most ${maxBatch} (MAX_BATCH)`);
    checkWriteScope(l.principal, envelopes);
    this.takeRate(l, envelopes.length, now);
    this.engine.validate(envelopes);
  }

  /** Hand admitted envelopes to the engine; resolves once durable. */
  submit(envelopes: Envelope[], source: SourceRef, raw?: RawBatch): Promise<void> {
    return this.engine.ingest(envelopes, raw ? { source, validated: true, raw } : { source, validated: true });
  }

  get overloaded(): boolean {
    return this.engine.overloaded;
  }

  whenAccepting(): Promise<void> {
    return this.engine.whenAccepting();
  }

  private takeRate(l: OpenLane, n: number, now: number): void {
    if (n === 0) return;
    const conn = l.bucket;
    if (conn && !conn.take(n, now))
      throw rateLimited(`more than ${this.config.rateLimit} messages a second on this connection (RATE_LIMIT)`, conn.waitMs(n, now));
    const key = l.key.bucket;
    if (key && !key.take(n, now)) {
      conn?.refund(n);
      throw rateLimited(
        `more than ${this.config.keyRateLimit} messages a second for key "${l.principal.name}" across its connections (KEY_RATE_LIMIT)`,
        key.waitMs(n, now),
      );
    }
  }
}

function rateLimited(what: string, retryAfterMs: number): HextwinError {
  return new HextwinError('RATE_LIMITED', `${what}; retry in ${retryAfterMs} ms`, { details: { retryAfterMs } });
}
