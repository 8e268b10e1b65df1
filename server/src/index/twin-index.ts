/**
 * The index and analytics layer: follows the engine's events to keep one ModelIndex per model, and
 * answers the queries of the API (find, aggregate, hexAggregate, fields) and its live queries
 * (twin change feeds, maintained aggregates shared by identical subscriptions).
 */
import { HextwinError, type Severity } from '@hextwin/shared';
import type { EngineApi } from '../engine/types.js';
import { levelOf } from './level.js';
import { ModelIndex } from './model-index.js';
import { findTwinsSliced, type FindOptions, type TwinPage } from './find.js';
import { aggregateSliced, hexAggregateSliced, type AggregateSpec, type Group, type HexAggregateSpec, type HexBin } from './aggregate.js';
import { cellCover } from './dispatch.js';
import { LiveAggregate, type LiveAggregateSpec } from './live-aggregate.js';
import { TwinChangeFeed } from './live-twins.js';
import { compileFilter, type TwinFilter } from './filter.js';
import { canonicalJson } from './values.js';

/** A shared maintained aggregate; release it when the subscriber goes. */
export interface LiveAggregateHandle {
  readonly aggregate: LiveAggregate;
  release(): void;
}

export const MAX_THROTTLE_MS = 60_000;

export class TwinIndex {
  private readonly indexes = new Map<string, ModelIndex>();
  private built = false;
  private readonly unsubscribe: (() => void)[] = [];
  private readonly live = new Map<string, { agg: LiveAggregate; refs: number }>();
  private readonly feeds = new Set<TwinChangeFeed>();

  constructor(
    private readonly engine: EngineApi,
    /** most groups (or cells) one aggregate may return (GRAPHQL_MAX_GROUPS) */
    private readonly maxGroups = Infinity,
  ) {
    this.unsubscribe.push(
      engine.on('twinChanged', ({ twin }) => {
        if (this.built) this.modelIndex(twin.model).upsert(twin);
      }),
      engine.on('twinRemoved', ({ model, id, last }) => {
        if (this.built) this.indexes.get(model)?.remove(id, last);
      }),
      engine.on('ready', () => this.build()),
    );
    if (engine.ready) this.build();
  }

  /** Index every twin the engine holds (once restored). */
  private build(): void {
    if (this.built) return;
    for (const m of this.engine.models()) {
      const mi = this.modelIndex(m.name);
      mi.catalog.addSchema(m.stateSchema);
      for (const t of this.engine.twins(m.name)) mi.upsert(t);
    }
    this.built = true;
  }

  private modelIndex(model: string): ModelIndex {
    let mi = this.indexes.get(model);
    if (!mi) {
      this.indexes.set(model, (mi = new ModelIndex(model)));
      mi.level = this.engine.models().find((m) => m.name === model)?.level;
    }
    return mi;
  }

  /** A twin's level from its model's `level(state)`; null when normal or the model declares none. */
  levelOf(twin: { readonly model: string; readonly state: unknown }): Severity | null {
    return levelOf(this.indexes.get(twin.model)?.level, twin);
  }

  /** The index of a model; UNKNOWN_MODEL when the engine has no such model. */
  model(model: string): ModelIndex {
    if (!this.engine.hasModel(model)) throw new HextwinError('UNKNOWN_MODEL', `no model named ${JSON.stringify(model)}`);
    return this.modelIndex(model);
  }

  /** The queries scan in slices that give the event loop back (slices.ts). */
  find(model: string, opts: FindOptions): Promise<TwinPage> {
    return findTwinsSliced(this.model(model), opts);
  }

  /** TOO_MANY_GROUPS beyond the group cap. */
  aggregate(model: string, spec: AggregateSpec): Promise<Group[]> {
    return aggregateSliced(this.model(model), { maxGroups: this.maxGroups, ...spec });
  }

  hexAggregate(model: string, spec: HexAggregateSpec): Promise<HexBin[]> {
    return hexAggregateSliced(this.model(model), { maxGroups: this.maxGroups, ...spec });
  }

  /** Calls of live queries on twin changes so far, over every model. */
  notifications(): number {
    let n = 0;
    for (const mi of this.indexes.values()) n += mi.notifications;
    return n;
  }

  fields(model: string): { name: string; type: string }[] {
    return this.model(model).catalog.list();
  }

  /** A continuous query: the matching set, then its changes (see TwinChangeFeed). */
  watch(model: string, where: TwinFilter | null | undefined, throttleMs: number, onClose?: () => void): TwinChangeFeed {
    if (!Number.isInteger(throttleMs) || throttleMs < 0 || throttleMs > MAX_THROTTLE_MS) {
      throw new HextwinError('BAD_REQUEST', `throttleMs must be a whole number from 0 to ${MAX_THROTTLE_MS}`);
    }
    const mi = this.model(model);
    const pred = compileFilter(where, mi);
    const feed: TwinChangeFeed = new TwinChangeFeed(
      mi,
      pred,
      throttleMs,
      () => {
        this.feeds.delete(feed);
        onClose?.();
      },
      cellCover(where),
    );
    this.feeds.add(feed);
    return feed;
  }

  /** A maintained aggregate, shared with every other subscriber asking for the same one. */
  liveAggregate(model: string, spec: LiveAggregateSpec): LiveAggregateHandle {
    const mi = this.model(model);
    const key = model + '\u0000' + canonicalJson(spec);
    let entry = this.live.get(key);
    if (!entry) this.live.set(key, (entry = { agg: new LiveAggregate(mi, spec, this.maxGroups), refs: 0 }));
    entry.refs++;
    const e = entry;
    let released = false;
    return {
      aggregate: e.agg,
      release: () => {
        if (released) return;
        released = true;
        if (--e.refs === 0) {
          e.agg.close();
          this.live.delete(key);
        }
      },
    };
  }

  /** Changes waiting for twinChanges subscribers, summed (a gauge: stays bounded by twin counts). */
  pendingChanges(): number {
    let n = 0;
    for (const f of this.feeds) n += f.pending;
    return n;
  }

  get liveAggregates(): number {
    return this.live.size;
  }

  close(): void {
    for (const u of this.unsubscribe) u();
    for (const f of [...this.feeds]) f.close();
    for (const e of this.live.values()) e.agg.close();
    this.live.clear();
  }
}
