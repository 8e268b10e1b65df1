/**
 * Metrics of aggregates (COUNT, SUM, AVG, MIN, MAX over a numeric field) and the per-group
 * accumulator they share. A twin whose field is missing or not a number is left out of that metric;
 * a metric over no values is null, except COUNT, which is 0.
 */
import { HextwinError } from '@hextwin/shared';
import type { TwinView } from '../engine/types.js';
import { fieldGetter, type FieldGetter } from './field-path.js';

export const MetricOps = ['COUNT', 'SUM', 'AVG', 'MIN', 'MAX'] as const;
export type MetricOp = (typeof MetricOps)[number];

export interface MetricInput {
  field?: string | null;
  op: MetricOp;
}

export interface CompiledMetric {
  op: MetricOp;
  /** undefined: COUNT of twins */
  get: FieldGetter | undefined;
}

const MAX_METRICS = 32;

export function compileMetrics(metrics: readonly MetricInput[] | null | undefined): CompiledMetric[] {
  const list = metrics ?? [];
  if (list.length > MAX_METRICS) throw new HextwinError('INVALID_FILTER', `metrics: at most ${MAX_METRICS}`);
  return list.map((m, i) => {
    if (!MetricOps.includes(m?.op)) throw new HextwinError('INVALID_FILTER', `metrics[${i}]: op must be one of ${MetricOps.join(', ')}`);
    const hasField = m.field !== null && m.field !== undefined;
    if (!hasField && m.op !== 'COUNT') throw new HextwinError('INVALID_FILTER', `metrics[${i}]: ${m.op} needs a field`);
    try {
      return { op: m.op, get: hasField ? fieldGetter(m.field!) : undefined };
    } catch (e) {
      throw new HextwinError('INVALID_FILTER', `metrics[${i}]: ${(e as Error).message}`);
    }
  });
}

/** The metric input value of a twin: a finite number, or NaN when the twin is left out. */
export function metricValue(m: CompiledMetric, t: TwinView): number {
  if (!m.get) return 1;
  const v = m.get(t);
  return typeof v === 'number' && Number.isFinite(v) ? v : NaN;
}
