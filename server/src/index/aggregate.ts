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
import { scanSliced } from './slices.js';

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
  /** more groups than this: TOO_MANY_GROUPS (the scan stops there) */
  maxGroups?: number;
}

export interface HexAggregateSpec {
  resolution: number;
  where?: TwinFilter | null;
  metrics?: readonly MetricInput[] | null;
  /** more cells than this: TOO_MANY_GROUPS (the scan stops there) */
  maxGroups?: number;
}

/** The error of an aggregate with more groups than allowed: a partial answer would mislead. */
export function tooManyGroups(max: number, what: 'groups' | 'cells'): HextwinError {
  return new HextwinError(
    'TOO_MANY_GROUPS',
    what === 'cells'
      ? `the hexAggregate would return more than ${max} cells (GRAPHQL_MAX_GROUPS); use a coarser resolution or a narrower where`
      : `the aggregate would return more than ${max} groups (GRAPHQL_MAX_GROUPS); group by a field with fewer values or narrow where`,
    { details: { maxGroups: max } },
  );
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

interface Scan<T> {
  step(from: number, to: number): void;
  finish(): T;
}

function aggregateScan(index: ModelIndex, spec: AggregateSpec): Scan<Group[]> {
  const pred = compileFilter(spec.where, index);
  const metrics = compileMetrics(spec.metrics);
  const get = compileGroupBy(spec.groupBy);
  const max = spec.maxGroups ?? Infinity;
  const table = new GroupTable(metrics);
  const groupOf = new Map<unknown, number>();
  const keys: unknown[] = [];
  const scratch = new Float64Array(metrics.length);
  return {
    step(from, to) {
      const views = index.views;
      for (let s = from; s < to; s++) {
        const t = views[s];
        if (t === undefined || (pred !== matchAll && !pred(t, s))) continue;
        const raw = get ? get(t) : null;
        const k = get ? groupKeyOf(raw) : null;
        let g = groupOf.get(k);
        if (g === undefined) {
          if (table.size >= max) throw tooManyGroups(max, 'groups');
          groupOf.set(k, (g = table.open()));
          keys[g] = isMissing(raw) ? null : copyJson(raw);
        }
        if (metrics.length) fillValues(metrics, t, scratch);
        table.add(g, scratch);
      }
    },
    finish() {
      // no groupBy: always one group, even over no twins
      if (!get && table.size === 0) keys[table.open()] = null;
      const out: Group[] = new Array(table.size);
      for (let g = 0; g < table.size; g++) out[g] = { key: keys[g], count: table.count[g]!, values: table.values(g) };
      return out.sort(byCountThenKey);
    },
  };
}

function hexScan(index: ModelIndex, spec: HexAggregateSpec): Scan<HexBin[]> {
  const r = spec.resolution;
  checkResolution(r);
  const pred = compileFilter(spec.where, index);
  const metrics = compileMetrics(spec.metrics);
  const max = spec.maxGroups ?? Infinity;
  const m = metrics.length;
  const table = new GroupTable(metrics);
  const binOf = new Map<number, number>();
  const cells: number[] = [];
  const scratch = new Float64Array(m);
  return {
    step(from, to) {
      // arrays are replaced when the index grows: read them afresh for every range
      const col = index.cellColumn(r);
      const views = index.views;
      const lat = index.lat;
      let counts = table.count;
      for (let s = from; s < to; s++) {
        const t = views[s];
        if (t === undefined) continue;
        const la = lat[s]!;
        if (la !== la || (pred !== matchAll && !pred(t, s))) continue;
        let key = col[s]!;
        if (key !== key) key = index.cellKey(s, r, col);
        let g = binOf.get(key);
        if (g === undefined) {
          if (table.size >= max) throw tooManyGroups(max, 'cells');
          binOf.set(key, (g = table.open()));
          cells[g] = key;
          counts = table.count;
        }
        if (m === 0) counts[g]!++;
        else {
          fillValues(metrics, t, scratch);
          table.add(g, scratch);
        }
      }
    },
    finish() {
      const out: HexBin[] = new Array(table.size);
      for (let g = 0; g < table.size; g++) out[g] = { cell: unpackCell(cells[g]!, r), count: table.count[g]!, values: m ? table.values(g) : [] };
      return out.sort(byCountThenCell);
    },
  };
}

function runAll<T>(index: ModelIndex, scan: Scan<T>): T {
  scan.step(0, index.end);
  return scan.finish();
}

async function runSliced<T>(index: ModelIndex, scan: Scan<T>): Promise<T> {
  await scanSliced(() => index.end, scan.step);
  return scan.finish();
}

export const aggregate = (index: ModelIndex, spec: AggregateSpec): Group[] => runAll(index, aggregateScan(index, spec));
export const hexAggregate = (index: ModelIndex, spec: HexAggregateSpec): HexBin[] => runAll(index, hexScan(index, spec));
/** `aggregate` in slices that give the event loop back (see slices.ts). */
export const aggregateSliced = (index: ModelIndex, spec: AggregateSpec): Promise<Group[]> => runSliced(index, aggregateScan(index, spec));
/** `hexAggregate` in slices: the first use of a resolution computes every twin's cell, a slice at a time. */
export const hexAggregateSliced = (index: ModelIndex, spec: HexAggregateSpec): Promise<HexBin[]> => runSliced(index, hexScan(index, spec));

/** Group keys are live state values: copy objects so the answer does not change under the caller. */
function copyJson(v: unknown): unknown {
  return v !== null && typeof v === 'object' ? JSON.parse(JSON.stringify(v)) : v;
}
