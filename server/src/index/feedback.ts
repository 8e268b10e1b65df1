/**
 * Aggregate feedback: the aggregates models declare (`aggregates: { name: { model, where, groupBy,
 * metrics, everyMs } }`) kept by the index's maintained aggregates (live-aggregate.ts, shared with
 * identical GraphQL subscriptions) and refreshed every `everyMs` on the engine clock; `ctx.aggregate`
 * reads the latest snapshot, a Map lookup. Nothing is added to the ingest path beyond the index's
 * usual "mark the slot changed".
 *
 * In the cluster, each node's index holds every twin of the cluster (its own partitions plus its
 * view of the others'), so the result is cluster-wide, as fresh as the view.
 */
import { HextwinError, type AggregateGroup, type AggregateSpec, type JsonValue, type ModelDefinition } from '@hextwin/shared';
import type { AggregateSource } from '../engine/context.js';
import type { TwinIndex, LiveAggregateHandle } from './twin-index.js';
import type { TwinFilter } from './filter.js';
import { groupKeyOf } from './aggregate.js';

export const DEFAULT_EVERY_MS = 1_000;
/** A refresh with more changes than this runs in slices that give the event loop back. */
const SLICED_ABOVE = 20_000;

interface Entry {
  readonly handle: LiveAggregateHandle;
  readonly everyMs: number;
  byKey: Map<unknown, AggregateGroup>;
  all: AggregateGroup[];
  seen: number;
  busy: boolean;
  cancel: () => void;
}

export interface FeedbackClock {
  now(): number;
  wakeAt(at: number, fn: () => void): () => void;
}

export class AggregateFeedback implements AggregateSource {
  private readonly entries = new Map<string, Entry>();
  private closed = false;
  /** refreshes done (for tests and the bench) */
  refreshes = 0;

  /** Maintain every aggregate the models declare; MODEL_INVALID names the model and aggregate of a bad declaration. */
  constructor(
    private readonly index: TwinIndex,
    models: readonly Pick<ModelDefinition, 'name' | 'aggregates'>[],
    private readonly clock: FeedbackClock,
  ) {
    for (const m of models) {
      for (const [name, spec] of Object.entries(m.aggregates ?? {})) {
        const entry = this.open(m.name, name, spec);
        this.entries.set(m.name + '\u0000' + name, entry);
        this.refresh(entry, false);
        this.arm(entry);
      }
    }
  }

  /** True when some model declares an aggregate. */
  static wanted(models: readonly Pick<ModelDefinition, 'aggregates'>[]): boolean {
    return models.some((m) => m.aggregates && Object.keys(m.aggregates).length > 0);
  }

  get(model: string, name: string, key: JsonValue | undefined, byKey: boolean): AggregateGroup[] | AggregateGroup | undefined {
    const e = this.entries.get(model + '\u0000' + name);
    if (!e) return undefined;
    return byKey ? e.byKey.get(groupKeyOf(key)) : e.all;
  }

  /** Refresh every aggregate now, in one go (tests and the bench; the clock does it every everyMs). */
  refreshNow(): void {
    for (const e of this.entries.values()) this.refresh(e, false);
  }

  close(): void {
    this.closed = true;
    for (const e of this.entries.values()) {
      e.cancel();
      e.handle.release();
    }
    this.entries.clear();
  }

  private open(model: string, name: string, spec: AggregateSpec): Entry {
    const what = `model ${model}, aggregate ${JSON.stringify(name)}`;
    const everyMs = spec.everyMs ?? DEFAULT_EVERY_MS;
    if (!Number.isInteger(everyMs) || everyMs < 1) throw new HextwinError('MODEL_INVALID', `${what}: everyMs must be a whole number >= 1`);
    if (typeof spec.model !== 'string') throw new HextwinError('MODEL_INVALID', `${what}: model must name a model`);
    let handle: LiveAggregateHandle;
    try {
      handle = this.index.liveAggregate(spec.model, {
        kind: 'group',
        where: (spec.where ?? null) as TwinFilter | null,
        groupBy: spec.groupBy ?? null,
        metrics: spec.metrics ?? null,
      });
    } catch (e) {
      throw new HextwinError('MODEL_INVALID', `${what}: ${(e as Error).message}`, { cause: e });
    }
    return { handle, everyMs, byKey: new Map(), all: [], seen: -1, busy: false, cancel: () => {} };
  }

  private arm(e: Entry): void {
    if (this.closed) return;
    e.cancel = this.clock.wakeAt(this.clock.now() + e.everyMs, () => {
      this.refresh(e, true);
      this.arm(e);
    });
  }

  private refresh(e: Entry, sliced: boolean): void {
    if (e.busy) return;
    const agg = e.handle.aggregate;
    if (sliced && agg.pending > SLICED_ABOVE) {
      e.busy = true;
      void agg.refreshSliced().then(() => {
        e.busy = false;
        this.snapshot(e);
      });
      return;
    }
    agg.refresh();
    this.snapshot(e);
  }

  private snapshot(e: Entry): void {
    this.refreshes++;
    const agg = e.handle.aggregate;
    if (agg.version === e.seen || this.closed) return;
    e.seen = agg.version;
    const all = agg.groupsSnapshot() as AggregateGroup[];
    const byKey = new Map<unknown, AggregateGroup>();
    for (const g of all) byKey.set(groupKeyOf(g.key), Object.freeze(g));
    e.all = Object.freeze(all) as AggregateGroup[];
    e.byKey = byKey;
  }
}
