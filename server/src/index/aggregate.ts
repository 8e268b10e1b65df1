/**
 * `aggregate` (groups by a field) and `hexAggregate` (groups located twins by H3 cell) over one
 * model's current state, by one scan. Groups and cells come largest count first.
 */
import { HextwinError } from '@hextwin/shared';
import type { TwinView } from '../engine/types.js';
import type { ModelIndex } from './model-index.js';
import { compileFilter, matchAll, type TwinFilter } from './filter.js';
import { compileMetrics, metricValue, type CompiledMetric, type MetricInput } from './metric.js';
import { GroupTable } from './group-table.js';
import { fieldGetter, type FieldGetter } from './field-path.js';
import { canonicalJson, compareValues, isMissing } from './values.js';
import { MAX_RESOLUTION, unpackCell } from './geo.js';

export interface Group {
  key: unknown;
  count: number;
  values: (number | null)[];
}

export interface HexBin {
  cell: string;
  count: number;
  values: (number | null)[];
}

export interface AggregateSpec {
  where?: TwinFilter | null;
  groupBy?: string | null;
  metrics?: readonly MetricInput[] | null;
}

export interface HexAggregateSpec {
  resolution: number;
  where?: TwinFilter | null;
  metrics?: readonly MetricInput[] | null;
}

export function checkResolution(r: number): void {
  if (!Number.isInteger(r) || r < 0 || r > MAX_RESOLUTION)
    throw new HextwinError('BAD_REQUEST', `resolution must be a whole number from 0 to ${MAX_RESOLUTION}`);
}

/** Map key of a group value: primitives as themselves, missing as null, objects by canonical JSON. */
export function groupKeyOf(v: unknown): unknown {
  if (isMissing(v)) return null;
  if (typeof v === 'object') return '\u0000json:' + canonicalJson(v);
  return v;
}

export function compileGroupBy(groupBy: string | null | undefined): FieldGetter | undefined {
  if (groupBy === null || groupBy === undefined) return undefined;
  try {
    return fieldGetter(groupBy);
  } catch (e) {
    throw new HextwinError('INVALID_FILTER', `groupBy: ${(e as Error).message}`);
  }
}

/** Fill `out` with a twin's metric values (NaN where left out). */
export function fillValues(metrics: readonly CompiledMetric[], t: TwinView, out: Float64Array): void {
  for (let i = 0; i < metrics.length; i++) out[i] = metricValue(metrics[i]!, t);
}

export const byCountThenKey = (a: Group, b: Group): number => {
  if (a.count !== b.count) return b.count - a.count;
  if (isMissing(a.key) || isMissing(b.key)) return isMissing(a.key) ? (isMissing(b.key) ? 0 : 1) : -1;
  return compareValues(a.key, b.key);
};

export const byCountThenCell = (a: HexBin, b: HexBin): number => (a.count !== b.count ? b.count - a.count : a.cell < b.cell ? -1 : a.cell > b.cell ? 1 : 0);

export function aggregate(index: ModelIndex, spec: AggregateSpec): Group[] {
  const pred = compileFilter(spec.where, index);
  const metrics = compileMetrics(spec.metrics);
  const get = compileGroupBy(spec.groupBy);
  const table = new GroupTable(metrics);
  const groupOf = new Map<unknown, number>();
  const keys: unknown[] = [];
  const scratch = new Float64Array(metrics.length);
  const views = index.views;
  for (let s = 0, end = index.end; s < end; s++) {
    const t = views[s];
    if (t === undefined || (pred !== matchAll && !pred(t, s))) continue;
    const raw = get ? get(t) : null;
    const k = get ? groupKeyOf(raw) : null;
    let g = groupOf.get(k);
    if (g === undefined) {
      groupOf.set(k, (g = table.open()));
      keys[g] = isMissing(raw) ? null : copyJson(raw);
    }
    if (metrics.length) fillValues(metrics, t, scratch);
    table.add(g, scratch);
  }
  // no groupBy: always one group, even over no twins
  if (!get && table.size === 0) keys[table.open()] = null;
  const out: Group[] = new Array(table.size);
  for (let g = 0; g < table.size; g++) out[g] = { key: keys[g], count: table.count[g]!, values: table.values(g) };
  return out.sort(byCountThenKey);
}

export function hexAggregate(index: ModelIndex, spec: HexAggregateSpec): HexBin[] {
  const r = spec.resolution;
  checkResolution(r);
  const pred = compileFilter(spec.where, index);
  const metrics = compileMetrics(spec.metrics);
  const m = metrics.length;
  const table = new GroupTable(metrics);
  const binOf = new Map<number, number>();
  const cells: number[] = [];
  const scratch = new Float64Array(m);
  const col = index.cellColumn(r);
  const views = index.views;
  const lat = index.lat;
  const count = () => table.count;
  let counts = count();
  for (let s = 0, end = index.end; s < end; s++) {
    const t = views[s];
    if (t === undefined) continue;
    const la = lat[s]!;
    if (la !== la || (pred !== matchAll && !pred(t, s))) continue;
    let key = col[s]!;
    if (key !== key) key = index.cellKey(s, r, col);
    let g = binOf.get(key);
    if (g === undefined) {
      binOf.set(key, (g = table.open()));
      cells[g] = key;
      counts = count();
    }
    if (m === 0) counts[g]!++;
    else {
      fillValues(metrics, t, scratch);
      table.add(g, scratch);
    }
  }
  const out: HexBin[] = new Array(table.size);
  for (let g = 0; g < table.size; g++) out[g] = { cell: unpackCell(cells[g]!, r), count: table.count[g]!, values: m ? table.values(g) : [] };
  return out.sort(byCountThenCell);
}

/** Group keys are live state values: copy objects so the answer does not change under the caller. */
function copyJson(v: unknown): unknown {
  return v !== null && typeof v === 'object' ? JSON.parse(JSON.stringify(v)) : v;
}
