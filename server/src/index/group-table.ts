/**
 * Per-group running totals in flat typed arrays (no object per group while scanning): the hot
 * loop of aggregates over a million twins touches only numbers.
 */
import type { CompiledMetric } from './metric.js';

export class GroupTable {
  size = 0;
  private cap = 64;
  count = new Float64Array(this.cap);
  private n: Float64Array;
  private sum: Float64Array;
  private min: Float64Array;
  private max: Float64Array;
  private readonly m: number;

  constructor(readonly metrics: readonly CompiledMetric[]) {
    this.m = metrics.length;
    this.n = new Float64Array(this.cap * this.m);
    this.sum = new Float64Array(this.cap * this.m);
    this.min = new Float64Array(this.cap * this.m).fill(Infinity);
    this.max = new Float64Array(this.cap * this.m).fill(-Infinity);
  }

  /** A new empty group; returns its number. */
  open(): number {
    if (this.size === this.cap) this.grow();
    return this.size++;
  }

  /** Add one twin's metric values (NaN = left out of that metric) to group g. */
  add(g: number, values: Float64Array): void {
    this.count[g]!++;
    const m = this.m;
    const base = g * m;
    for (let i = 0; i < m; i++) {
      const v = values[i]!;
      if (v !== v) continue;
      const j = base + i;
      this.n[j]!++;
      this.sum[j]! += v;
      if (v < this.min[j]!) this.min[j] = v;
      if (v > this.max[j]!) this.max[j] = v;
    }
  }

  /** Group g's metric values, in the order of the metrics. */
  values(g: number): (number | null)[] {
    const out: (number | null)[] = new Array(this.m);
    for (let i = 0; i < this.m; i++) {
      const j = g * this.m + i;
      const n = this.n[j]!;
      const mt = this.metrics[i]!;
      out[i] =
        mt.op === 'COUNT'
          ? mt.get
            ? n
            : this.count[g]!
          : n === 0
            ? null
            : mt.op === 'SUM'
              ? this.sum[j]!
              : mt.op === 'AVG'
                ? this.sum[j]! / n
                : mt.op === 'MIN'
                  ? this.min[j]!
                  : this.max[j]!;
    }
    return out;
  }

  private grow(): void {
    const cap = this.cap * 2;
    const grow = (a: Float64Array, per: number, fill: number) => {
      const b = new Float64Array(cap * per);
      if (fill !== 0) b.fill(fill);
      b.set(a);
      return b;
    };
    this.count = grow(this.count, 1, 0);
    this.n = grow(this.n, this.m, 0);
    this.sum = grow(this.sum, this.m, 0);
    this.min = grow(this.min, this.m, Infinity);
    this.max = grow(this.max, this.m, -Infinity);
    this.cap = cap;
  }
}
