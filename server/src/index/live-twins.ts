/**
 * A continuous query over one model (`twinChanges`): first the matching set as ENTER events, then
 * ENTER / UPDATE / LEAVE as twins change.
 *
 * Built for slow subscribers: the ingest path only records *which* twins changed (a set of ids,
 * never more entries than twins); the event for a twin is worked out from its current state when
 * the subscriber pulls it, so many changes of one twin conflate into one event with the latest
 * state. Delivery goes in rounds, at most one round per `throttleMs`, so each twin is delivered at
 * most once per `throttleMs`. Memory per subscriber is bounded by the model's twin count, and ingest
 * never waits on a subscriber. The matching set is found by a scan in slices on the first pull (see
 * slices.ts), and a feed whose filter has a cell cover (dispatch.ts) is told only about changes in
 * or out of those cells.
 */
import type { TwinView } from '../engine/types.js';
import { Feed } from './feed.js';
import type { ModelIndex, SlotListener } from './model-index.js';
import type { Predicate } from './filter.js';
import type { CellCover } from './model-index.js';
import { scanSliced } from './slices.js';

export const ChangeKind = { ENTER: 'ENTER', UPDATE: 'UPDATE', LEAVE: 'LEAVE' } as const;
export type ChangeKind = (typeof ChangeKind)[keyof typeof ChangeKind];

export interface TwinChangeEvent {
  kind: ChangeKind;
  id: string;
  /** latest state; for LEAVE the twin's last state, or null when it was removed */
  twin: TwinView | null;
}

export class TwinChangeFeed extends Feed<TwinChangeEvent> implements SlotListener {
  /** ids changed since the current round started, in first-change order */
  private dirty = new Set<string>();
  private round: Iterator<string> | null = null;
  private roundLeft = 0;
  /** ids the subscriber currently holds as matching */
  private readonly visible = new Set<string>();
  private lastRoundAt = -Infinity;
  private wake: (() => void) | null = null;
  private sleep: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly detach: () => void;
  /** the scan for the matching set, once started */
  private initial: Promise<void> | null = null;

  constructor(
    private readonly index: ModelIndex,
    private readonly pred: Predicate,
    private readonly throttleMs: number,
    private readonly onClose?: () => void,
    cover?: CellCover,
  ) {
    super();
    // listen first: a twin changed while the scan runs is then seen by one or the other
    this.detach = index.addListener(this, cover);
  }

  private scanMatching(): Promise<void> {
    const pred = this.pred;
    return scanSliced(
      () => (this.closed ? 0 : this.index.end),
      (from, to) => {
        const views = this.index.views;
        for (let s = from; s < to; s++) {
          const t = views[s];
          if (t !== undefined && pred(t, s)) this.dirty.add(t.id);
        }
      },
    );
  }

  changed(_slot: number, twin: TwinView): void {
    this.dirty.add(twin.id);
    this.signal();
  }

  removed(_slot: number, last: TwinView): void {
    if (this.visible.has(last.id)) {
      this.dirty.add(last.id);
      this.signal();
    }
  }

  /** Twins with a change not yet delivered (bounded by the model's twin count). */
  get pending(): number {
    return this.dirty.size + this.roundLeft;
  }

  async next(): Promise<IteratorResult<TwinChangeEvent>> {
    await (this.initial ??= this.scanMatching());
    for (;;) {
      if (this.closed) return { value: undefined, done: true };
      const ev = this.take();
      if (ev) return { value: ev, done: false };
      if (this.dirty.size === 0) {
        await new Promise<void>((r) => (this.wake = r));
        this.wake = null;
        continue;
      }
      const wait = this.lastRoundAt + this.throttleMs - performance.now();
      if (wait > 0) {
        await new Promise<void>((r) => {
          this.wake = r;
          this.sleep = setTimeout(r, wait);
        });
        this.wake = null;
        if (this.sleep) clearTimeout(this.sleep);
        this.sleep = null;
        if (this.closed) continue;
        if (performance.now() < this.lastRoundAt + this.throttleMs) continue;
      }
      this.round = this.dirty.values();
      this.roundLeft = this.dirty.size;
      this.dirty = new Set();
      this.lastRoundAt = performance.now();
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.detach();
    this.dirty.clear();
    this.visible.clear();
    this.round = null;
    this.roundLeft = 0;
    if (this.sleep) clearTimeout(this.sleep);
    this.wake?.();
    this.onClose?.();
  }

  private signal(): void {
    // only wake a subscriber waiting for data; one sleeping out its throttle keeps sleeping
    if (this.wake && !this.sleep) this.wake();
  }

  /** The next event of the current round, worked out from the twin's current state. */
  private take(): TwinChangeEvent | undefined {
    const round = this.round;
    if (!round) return undefined;
    for (;;) {
      const it = round.next();
      if (it.done) {
        this.round = null;
        this.roundLeft = 0;
        return undefined;
      }
      this.roundLeft--;
      const id = it.value;
      const s = this.index.slot(id);
      const t = s === undefined ? undefined : this.index.views[s];
      const matches = t !== undefined && this.pred(t, s!);
      const seen = this.visible.has(id);
      if (matches && !seen) {
        this.visible.add(id);
        return { kind: 'ENTER', id, twin: t };
      }
      if (matches) return { kind: 'UPDATE', id, twin: t };
      if (seen) {
        this.visible.delete(id);
        return { kind: 'LEAVE', id, twin: t ?? null };
      }
    }
  }
}
