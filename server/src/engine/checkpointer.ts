/**
 * Checkpoints without stalls: a copy-on-write cut.
 *
 * A round starts with a cut (O(1): the current dirty list becomes the round's, a new generation
 * begins). Twins dirty at the cut are then encoded in slices of about a millisecond between other
 * work; a twin about to change before its slice reaches it is encoded first, as it was at the cut
 * (`beforeMutate`). A twin whose async batch was in flight at the cut is captured when that batch
 * ends, together with the twin-to-twin messages the batch sent. So the round writes a consistent
 * cut — every twin at the cut, with its last applied log position — while no single task encodes
 * more than a slice. The encoded twins go to the store's checkpoint writer as they are made (the
 * LMDB store commits them in one transaction on a worker thread); the round ends by writing the
 * internal messages not yet applied at the cut, the tombstones, and the truncation point.
 */
import type { Logger } from 'pino';
import type { CheckpointWriter, EncodedTwin, StoredTwin, Tombstone, TwinStore } from '../store/store.js';
import type { EngineMetrics } from './metrics.js';
import type { LogPositions } from './positions.js';
import type { TwinTimers } from './timers.js';
import type { Twin } from './twin.js';
import type { ForwardItem, TwinRoute } from './types.js';

/** ms of encoding per slice */
const SLICE_MS = 1;

interface Round {
  gen: number;
  /** twins captured ahead of their slice (before a change, or when a late async batch ended) */
  captured: (EncodedTwin | StoredTwin)[];
  /** twins whose async batch was in flight at the cut and has not ended yet */
  late: number;
  lateDone: (() => void) | null;
  /** internal items sent by late-captured batches: written with this round */
  latePositions: number[];
}

export interface CheckpointHost {
  isStopped(): boolean;
  hasFailed(): boolean;
  failStore(e: unknown): void;
  /** a twin whose state cannot be encoded is quarantined; the rest of the checkpoint goes on */
  quarantine(t: Twin, code: string, reason: string): void;
}

export class Checkpointer {
  private gen = 1;
  private list: Twin[] = [];
  private round: Round | null = null;
  private removed: Tombstone[] = [];
  /** twins in an async batch right now */
  readonly asyncRunning = new Set<Twin>();
  private running: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private forwardTimer: NodeJS.Timeout | null = null;
  private lastCost = 0;
  private readonly encode: ((t: StoredTwin) => Uint8Array) | undefined;
  /** awaited after the cut, before the round commits (EngineApi.beforeCheckpointCommit) */
  readonly barriers = new Set<() => Promise<void>>();

  constructor(
    private readonly store: TwinStore,
    private readonly positions: LogPositions,
    private readonly timers: TwinTimers,
    private readonly metrics: EngineMetrics,
    private readonly log: Logger,
    private readonly host: CheckpointHost,
    private readonly periodMs: number,
    private readonly route: TwinRoute | undefined,
  ) {
    this.encode = store.encodeTwin?.bind(store);
  }

  /** The twin changed (state, position, timers): the next round writes it. */
  markDirty(t: Twin): void {
    if (t.dirtyGen !== this.gen) {
      t.dirtyGen = this.gen;
      this.list.push(t);
    }
  }

  /** Call before a twin's stored fields change: a round still owing it captures it first. */
  beforeMutate(t: Twin): void {
    if (this.round && t.dirtyGen === this.round.gen) {
      t.dirtyGen = 0;
      this.capture(t, this.round.captured);
    }
  }

  /** An async batch of `t` ended; `sent` are the positions of the internal items it sent. */
  asyncEnded(t: Twin, sent: number[] | null): void {
    this.asyncRunning.delete(t);
    const r = this.round;
    if (!r || t.lateGen !== r.gen) return;
    t.lateGen = 0;
    if (!t.removed) this.capture(t, r.captured);
    if (sent) for (const p of sent) r.latePositions.push(p);
    if (--r.late === 0) r.lateDone?.();
  }

  /** A twin was removed: its tombstone goes with the next round. */
  tombstone(t: Tombstone): void {
    this.removed.push(t);
  }

  /** Twins waiting for the next round (for /metrics and tests). */
  get dirtyCount(): number {
    return this.list.length;
  }

  /** Run a round now (or join the one running). */
  checkpoint(): Promise<void> {
    if (this.running) return this.running;
    if (this.host.hasFailed()) return Promise.resolve();
    this.running = this.runRound().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /**
   * Periodic rounds; under heavy load they are spaced out so that encoding stays near a tenth of
   * the time (replay after a crash grows accordingly).
   */
  start(delay = this.periodMs): void {
    if (this.periodMs <= 0 || this.host.isStopped()) return;
    this.timer = setTimeout(() => {
      this.checkpoint().then(
        () => this.start(Math.max(this.periodMs, this.lastCost * 10)),
        (e) => this.host.failStore(e),
      );
    }, delay);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.forwardTimer) clearTimeout(this.forwardTimer);
    this.timer = this.forwardTimer = null;
  }

  /** Checkpoint soon, so items for twins hosted elsewhere do not wait for the periodic round. */
  scheduleForward(): void {
    if (this.forwardTimer || this.periodMs <= 0 || this.host.isStopped()) return;
    this.forwardTimer = setTimeout(() => {
      this.forwardTimer = null;
      if (!this.host.isStopped()) void this.checkpoint().catch((e) => this.host.failStore(e));
    }, this.route?.delayMs ?? 20);
    this.forwardTimer.unref();
  }

  private stored(t: Twin): StoredTwin {
    return {
      model: t.cm.name,
      id: t.id,
      state: t.state,
      lastPos: t.lastPos,
      createdAt: t.createdAt,
      updatedAt: t.updatedAt,
      version: t.version,
      timers: this.timers.stored(t),
      source: t.source,
      lastError: t.lastError,
    };
  }

  private capture(t: Twin, out: (EncodedTwin | StoredTwin)[]): void {
    try {
      if (this.encode) out.push({ model: t.cm.name, id: t.id, bytes: this.encode(this.stored(t)) });
      else out.push(structuredClone(this.stored(t)));
    } catch (e) {
      this.host.quarantine(t, 'STATE_UNENCODABLE', `its state cannot be stored: ${(e as Error).message}`);
    }
  }

  private async runRound(): Promise<void> {
    const t0 = performance.now();
    let cost = 0;
    // the cut
    const r: Round = { gen: this.gen, captured: [], late: 0, lateDone: null, latePositions: [] };
    const list = this.list;
    this.gen++;
    this.list = [];
    this.round = r;
    for (const t of this.asyncRunning) {
      if (t.dirtyGen === r.gen) {
        t.dirtyGen = 0;
        t.lateGen = r.gen;
        r.late++;
      }
    }
    const removed = this.removed;
    this.removed = [];
    const pending = this.positions.internalRecords();
    const truncateBelow = this.positions.lowWater();
    const outgoing = this.positions.outbox;
    this.positions.outbox = [];
    const writer: CheckpointWriter = this.store.beginCheckpoint?.() ?? new CollectingWriter(this.store);
    try {
      // the slices
      let i = 0;
      do {
        const s0 = performance.now();
        const chunk = r.captured;
        r.captured = [];
        while (i < list.length) {
          const t = list[i++]!;
          if (t.dirtyGen === r.gen && !t.removed) {
            t.dirtyGen = 0;
            this.capture(t, chunk);
          }
          if ((i & 31) === 0 && performance.now() - s0 > SLICE_MS) break;
        }
        if (chunk.length) writer.add(chunk);
        cost += performance.now() - s0;
        if (i < list.length) await new Promise((res) => setImmediate(res));
      } while (i < list.length);
      if (r.late > 0) await new Promise<void>((res) => (r.lateDone = res));
      this.round = null;
      if (r.captured.length) writer.add(r.captured);
      if (r.latePositions.length) for (const rec of this.positions.internalRecords(r.latePositions)) pending.push(rec);
      // events derived in memory from changes the cut covers become durable before the cut does
      if (this.barriers.size) await Promise.all([...this.barriers].map((b) => b()));
      // every log append issued before now is durable before the checkpoint that may truncate it
      await this.store.flushed();
      await writer.commit({ removed, pending, truncateBelow, nextPos: this.positions.nextPos });
    } catch (e) {
      this.round = null;
      writer.abort?.();
      throw e;
    }
    this.lastCost = cost;
    this.metrics.checkpointSeconds.observe((performance.now() - t0) / 1000);
    // durable now: items for twins hosted elsewhere can go (those sent by late batches are in the
    // outbox already and go after the next round, which writes them again)
    if (outgoing.length) this.forward(outgoing);
    if (this.positions.outbox.length) this.scheduleForward();
  }

  /** Hand checkpointed items for twins hosted elsewhere to the route; on failure they wait for the next round. */
  private forward(positions: number[]): void {
    const items: ForwardItem[] = [];
    for (const pos of positions) {
      const p = this.positions.internal.get(pos);
      if (p) items.push({ pos, envelope: p.envelope, hops: p.hops, source: p.source, ...(p.control ? { control: p.control } : {}) });
    }
    if (!items.length || !this.route) return;
    this.route.forward(items).then(
      () => {
        for (const it of items) this.positions.internal.delete(it.pos);
      },
      (e) => {
        this.log.warn({ err: e, items: items.length }, 'forwarding twin-to-twin messages failed; retrying after the next checkpoint');
        this.positions.outbox = positions.concat(this.positions.outbox);
      },
    );
  }
}

/** For stores that take a checkpoint in one call: collect the round's twins, then write them at once. */
class CollectingWriter implements CheckpointWriter {
  private readonly twins: StoredTwin[] = [];
  private readonly encoded: EncodedTwin[] = [];
  constructor(private readonly store: TwinStore) {}
  add(chunk: (EncodedTwin | StoredTwin)[]): void {
    for (const c of chunk) {
      if ('bytes' in c) this.encoded.push(c);
      else this.twins.push(c);
    }
  }
  commit(meta: Parameters<CheckpointWriter['commit']>[0]): Promise<void> {
    return this.store.checkpoint({ twins: this.twins, encoded: this.encoded, ...meta });
  }
}
