/**
 * An aggregate kept up to date as twins change, for subscriptions: each twin's contribution (its
 * group and metric values) is remembered per slot, so a change costs one subtract and one add
 * instead of a rescan. Changes are only marked on the ingest path; `refresh()` applies them when a
 * subscriber is due. MIN/MAX of a group whose extreme left it, and sums after many subtractions
 * (float drift), are recomputed from the remembered contributions of that group only.
 *
 * The first contributions (every twin, and at a new resolution every twin's cell) are built on the
 * first refresh, which `refreshSliced` spreads over slices that give the event loop back.
 */
import type { TwinView } from '../engine/types.js';
import type { ModelIndex, SlotListener } from './model-index.js';
import { compileFilter, matchAll, type Predicate, type TwinFilter } from './filter.js';
import { compileMetrics, metricValue, type CompiledMetric, type MetricInput } from './metric.js';
import { byCountThenCell, byCountThenKey, checkResolution, compileGroupBy, groupKeyOf, type Group, type HexBin } from './aggregate.js';
import type { FieldGetter } from './field-path.js';
import { unpackCell } from './geo.js';
import { isMissing } from './values.js';
import { SLICE_MS, yieldToLoop } from './slices.js';

export type LiveAggregateSpec =
  | { kind: 'group'; where?: TwinFilter | null; groupBy?: string | null; metrics?: readonly MetricInput[] | null }
  | { kind: 'hex'; resolution: number; where?: TwinFilter | null; metrics?: readonly MetricInput[] | null };

interface LiveGroup {
  mapKey: unknown;
  key: unknown;
  count: number;
  n: Float64Array;
  sum: Float64Array;
  min: Float64Array;
  max: Float64Array;
  /** extremes or sums need recomputing from contributions */
  stale: boolean;
  subtractions: number;
}

const RECOMPUTE_AFTER_SUBTRACTIONS = 4_096;

export class LiveAggregate implements SlotListener {
  private readonly pred: Predicate;
  private readonly metrics: CompiledMetric[];
  private readonly m: number;
  private readonly groupBy: FieldGetter | undefined;
  private readonly resolution: number;
  private readonly groups = new Map<unknown, LiveGroup>();
  private groupOf: (LiveGroup | undefined)[] = [];
  private vals: Float64Array;
  private dirtyFlag: Uint8Array;
  private dirtyList: number[] = [];
  private dirtyHead = 0;
  /** slots below this have their first contribution; the build runs up to `buildEnd` */
  private built = 0;
  private readonly buildEnd: number;
  private readonly scratch: Float64Array;
  private staleGroups = 0;
  private readonly detach: () => void;
  private readonly unpin: () => void;
  /** increases whenever a group changed */
  version = 0;

  /** more groups than `maxGroups` were seen: the aggregate stopped, its subscribers get TOO_MANY_GROUPS */
  overflowed = false;

  constructor(
    private readonly index: ModelIndex,
    readonly spec: LiveAggregateSpec,
    private readonly maxGroups = Infinity,
  ) {
    this.pred = compileFilter(spec.where, index);
    this.metrics = compileMetrics(spec.metrics);
    this.m = this.metrics.length;
    this.scratch = new Float64Array(this.m);
    if (spec.kind === 'hex') {
      checkResolution(spec.resolution);
      this.resolution = spec.resolution;
      this.groupBy = undefined;
      this.unpin = index.pinResolution(spec.resolution);
    } else {
      this.resolution = -1;
      this.groupBy = compileGroupBy(spec.groupBy);
      this.unpin = () => {};
    }
    this.vals = new Float64Array(Math.max(1, index.capacity * this.m));
    this.dirtyFlag = new Uint8Array(index.capacity);
    this.buildEnd = index.end;
    this.detach = index.addListener(this);
  }

  changed(slot: number): void {
    if (this.overflowed) return;
    if (slot >= this.dirtyFlag.length) this.growDirty();
    if (this.dirtyFlag[slot]) return;
    this.dirtyFlag[slot] = 1;
    this.dirtyList.push(slot);
  }

  removed(slot: number): void {
    // the slot may be reused right away: take the contribution out now
    if (!this.overflowed) this.apply(slot);
  }

  /** Apply the changes marked since the last refresh (and the first contributions, the first time). */
  refresh(): void {
    this.refreshUntil(Infinity);
  }

  /** `refresh` in slices of SLICE_MS that give the event loop back. */
  async refreshSliced(): Promise<void> {
    while (!this.refreshUntil(performance.now() + SLICE_MS)) await yieldToLoop();
  }

  /** Apply what is due until the deadline (checked every few slots); true when all is applied. */
  private refreshUntil(deadline: number): boolean {
    const step = 256;
    const over = () => {
      if (this.groups.size <= this.maxGroups) return false;
      // stop here: holding more groups than anyone may read only costs memory
      this.overflowed = true;
      this.groups.clear();
      this.groupOf = [];
      this.dirtyList = [];
      this.dirtyHead = 0;
      return true;
    };
    if (this.overflowed) return true;
    while (this.built < this.buildEnd) {
      const to = Math.min(this.buildEnd, this.built + step);
      // a slot changed meanwhile is applied here or from the dirty list: apply is idempotent
      for (let s = this.built; s < to; s++) this.apply(s);
      this.built = to;
      if (over()) return true;
      if (performance.now() >= deadline) return false;
    }
    const list = this.dirtyList;
    while (this.dirtyHead < list.length) {
      const to = Math.min(list.length, this.dirtyHead + step);
      for (let i = this.dirtyHead; i < to; i++) {
        const s = list[i]!;
        this.dirtyFlag[s] = 0;
        this.apply(s);
      }
      this.dirtyHead = to;
      if (over()) return true;
      if (this.dirtyHead < list.length && performance.now() >= deadline) return false;
    }
    this.dirtyList = [];
    this.dirtyHead = 0;
    if (this.staleGroups) this.recomputeStale();
    return true;
  }

  /** Changes marked and not yet applied. */
  get pending(): number {
    return this.dirtyList.length - this.dirtyHead;
  }

  /** Groups (or cells) the aggregate holds now. */
  get groupCount(): number {
    return this.groups.size;
  }

  groupsSnapshot(): Group[] {
    const out: Group[] = [];
    for (const g of this.groups.values()) out.push({ key: g.key, count: g.count, values: this.valuesOf(g) });
    if (!this.groupBy && out.length === 0) out.push({ key: null, count: 0, values: this.metrics.map((m) => (m.op === 'COUNT' ? 0 : null)) });
    return out.sort(byCountThenKey);
  }

  binsSnapshot(): HexBin[] {
    const out: HexBin[] = [];
    for (const g of this.groups.values()) out.push({ cell: unpackCell(g.mapKey as number, this.resolution), count: g.count, values: this.valuesOf(g) });
    return out.sort(byCountThenCell);
  }

  close(): void {
    this.detach();
    this.unpin();
  }

  private valuesOf(g: LiveGroup): (number | null)[] {
    return this.metrics.map((m, i) => {
      const n = g.n[i]!;
      switch (m.op) {
        case 'COUNT':
          return m.get ? n : g.count;
        case 'SUM':
          return n ? g.sum[i]! : null;
        case 'AVG':
          return n ? g.sum[i]! / n : null;
        case 'MIN':
          return n ? g.min[i]! : null;
        case 'MAX':
          return n ? g.max[i]! : null;
      }
    });
  }

  private growDirty(): void {
    const f = new Uint8Array(this.index.capacity);
    f.set(this.dirtyFlag);
    this.dirtyFlag = f;
  }

  private ensureVals(slot: number): void {
    if ((slot + 1) * this.m <= this.vals.length) return;
    const v = new Float64Array(Math.max(this.index.capacity, slot + 1) * this.m);
    v.set(this.vals);
    this.vals = v;
  }

  /** The group the twin in slot s belongs to now (created on demand), or undefined. */
  private targetOf(s: number, t: TwinView | undefined): { mapKey: unknown; key: unknown } | undefined {
    if (t === undefined) return undefined;
    if (this.resolution >= 0) {
      if (this.index.lat[s]! !== this.index.lat[s]!) return undefined;
      if (this.pred !== matchAll && !this.pred(t, s)) return undefined;
      const k = this.index.cellKey(s, this.resolution);
      return { mapKey: k, key: k };
    }
    if (this.pred !== matchAll && !this.pred(t, s)) return undefined;
    if (!this.groupBy) return { mapKey: null, key: null };
    const raw = this.groupBy(t);
    return { mapKey: groupKeyOf(raw), key: isMissing(raw) ? null : raw };
  }

  /** Make the remembered contribution of slot s match its twin's current state. */
  private apply(s: number): void {
    const t = this.index.views[s];
    const target = this.targetOf(s, t);
    const old = this.groupOf[s];
    const m = this.m;
    if (target && t) for (let i = 0; i < m; i++) this.scratch[i] = metricValue(this.metrics[i]!, t);
    if (old && target && old.mapKey === target.mapKey) {
      let same = true;
      for (let i = 0; i < m && same; i++) {
        const a = this.vals[s * m + i]!;
        const b = this.scratch[i]!;
        same = a === b || (a !== a && b !== b);
      }
      if (same) return;
    }
    if (old) this.subtract(old, s);
    if (target) {
      let g = this.groups.get(target.mapKey);
      if (!g) {
        g = {
          mapKey: target.mapKey,
          key: target.key !== null && typeof target.key === 'object' ? JSON.parse(JSON.stringify(target.key)) : target.key,
          count: 0,
          n: new Float64Array(m),
          sum: new Float64Array(m),
          min: new Float64Array(m).fill(Infinity),
          max: new Float64Array(m).fill(-Infinity),
          stale: false,
          subtractions: 0,
        };
        this.groups.set(target.mapKey, g);
      }
      this.ensureVals(s);
      g.count++;
      for (let i = 0; i < m; i++) {
        const v = this.scratch[i]!;
        this.vals[s * m + i] = v;
        if (v !== v) continue;
        g.n[i]!++;
        g.sum[i]! += v;
        if (v < g.min[i]!) g.min[i] = v;
        if (v > g.max[i]!) g.max[i] = v;
      }
      this.groupOf[s] = g;
    } else {
      this.groupOf[s] = undefined;
    }
    this.version++;
  }

  private subtract(g: LiveGroup, s: number): void {
    const m = this.m;
    g.count--;
    if (g.count === 0) {
      this.groups.delete(g.mapKey);
      if (g.stale) this.staleGroups--;
      g.stale = false;
      return;
    }
    let stale = ++g.subtractions >= RECOMPUTE_AFTER_SUBTRACTIONS;
    for (let i = 0; i < m; i++) {
      const v = this.vals[s * m + i]!;
      if (v !== v) continue;
      g.n[i]!--;
      g.sum[i]! -= v;
      if (v <= g.min[i]! || v >= g.max[i]!) stale = true;
    }
    if (stale && !g.stale) {
      g.stale = true;
      this.staleGroups++;
    }
  }

  /** Recompute totals of stale groups from the remembered contributions (one pass over slots). */
  private recomputeStale(): void {
    const m = this.m;
    for (const g of this.groups.values()) {
      if (!g.stale) continue;
      g.n.fill(0);
      g.sum.fill(0);
      g.min.fill(Infinity);
      g.max.fill(-Infinity);
    }
    for (let s = 0, end = this.index.end; s < end; s++) {
      const g = this.groupOf[s];
      if (!g || !g.stale) continue;
      for (let i = 0; i < m; i++) {
        const v = this.vals[s * m + i]!;
        if (v !== v) continue;
        g.n[i]!++;
        g.sum[i]! += v;
        if (v < g.min[i]!) g.min[i] = v;
        if (v > g.max[i]!) g.max[i] = v;
      }
    }
    for (const g of this.groups.values()) {
      g.stale = false;
      g.subtractions = 0;
    }
    this.staleGroups = 0;
  }
}
