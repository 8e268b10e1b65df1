/**
 * Scatter-gather: questions every node answers over the partitions it owns, and the merging of
 * their partial answers. Aggregates travel as partial sums (count, sum, min, max per metric), so
 * averages and extremes merge exactly. A `where` filter is compiled on each node by the filter
 * compiler the query layer registers (`ClusterNode.setFilterCompiler`).
 */
import { latLngToCell } from 'h3-js';
import { HextwinError, PARTITIONS, type JsonValue } from '@hextwin/shared';
import type { TwinView } from '../engine/types.js';
import { pack, unpack } from './codec.js';
import type { NodeInfo } from './membership.js';

export const MetricOps = { COUNT: 'COUNT', SUM: 'SUM', AVG: 'AVG', MIN: 'MIN', MAX: 'MAX' } as const;
export type MetricOp = (typeof MetricOps)[keyof typeof MetricOps];

export interface MetricSpec {
  field?: string;
  op: MetricOp;
}

export type GatherRequest =
  | { op: 'status' }
  | { op: 'aggregate'; model: string; groupBy?: string; metrics: MetricSpec[]; where?: JsonValue }
  | { op: 'hex'; model: string; resolution: number; metrics: MetricSpec[]; where?: JsonValue };

export interface NodeStatus {
  node: string;
  ready: boolean;
  connected: boolean;
  partitions: number[];
  twins: number;
  viewTwins: number;
  members: (NodeInfo & { alive: boolean })[];
  /** holding its partitions: its heartbeats are not reaching NATS */
  fenced?: boolean;
  /** JetStream replicas asked for (NATS_REPLICAS) and what each stream and bucket has */
  replicas?: { wanted: number; streams: { stream: string; replicas: number }[] };
}

/** count of numeric values, sum, min, max */
type Acc = [number, number, number, number];
/** group key (JSON), twins in group, one accumulator per metric */
type PartialGroup = [string, number, Acc[]];

export interface PartialAnswer {
  node: string;
  /** partitions this answer covers */
  partitions: number[];
  groups: PartialGroup[];
}

export interface Group {
  key: JsonValue;
  count: number;
  values: (number | null)[];
}

export interface GatherResult<T> {
  rows: T[];
  /** false when some partition had no serving owner (moving) when asked */
  complete: boolean;
  nodes: number;
}

export type TwinFilter = (t: TwinView) => boolean;
export type FilterCompiler = (model: string, where: JsonValue) => TwinFilter;

/** What a node offers the gather service. */
export interface GatherHost {
  readonly self: string;
  status(): NodeStatus;
  localTwins(model: string): Iterable<TwinView>;
  localPartitions(): number[];
  hasModel(model: string): boolean;
  compileFilter(model: string, where: JsonValue): TwinFilter;
}

export function fieldValue(state: unknown, path: string): unknown {
  let v: unknown = state;
  for (const part of path.split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

function partialGroups(
  twins: Iterable<TwinView>,
  keyOf: (t: TwinView) => string | undefined,
  metrics: MetricSpec[],
  filter: TwinFilter | undefined,
): PartialGroup[] {
  const groups = new Map<string, PartialGroup>();
  for (const t of twins) {
    if (filter && !filter(t)) continue;
    const key = keyOf(t);
    if (key === undefined) continue;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = [key, 0, metrics.map(() => [0, 0, Infinity, -Infinity] as Acc)]));
    g[1]++;
    for (let i = 0; i < metrics.length; i++) {
      const m = metrics[i]!;
      if (m.op === 'COUNT' && !m.field) continue;
      const v = m.field ? fieldValue(t.state, m.field) : undefined;
      if (typeof v !== 'number' || !Number.isFinite(v)) continue;
      const a = g[2][i]!;
      a[0]++;
      a[1] += v;
      if (v < a[2]) a[2] = v;
      if (v > a[3]) a[3] = v;
    }
  }
  return [...groups.values()];
}

/** The request handler every node serves on the gather subject. */
export function gatherHandler(host: GatherHost): (data: Uint8Array) => Uint8Array[] {
  return (data) => {
    const req = unpack<GatherRequest>(data);
    if (req.op === 'status') return [pack(host.status())];
    if (!host.hasModel(req.model)) throw new HextwinError('UNKNOWN_MODEL', `no model named ${JSON.stringify(req.model)}`);
    const filter = req.where !== undefined && req.where !== null ? host.compileFilter(req.model, req.where) : undefined;
    const twins = host.localTwins(req.model);
    let groups: PartialGroup[];
    if (req.op === 'aggregate') {
      const by = req.groupBy;
      groups = partialGroups(twins, (t) => JSON.stringify(by ? (fieldValue(t.state, by) ?? null) : null), req.metrics, filter);
    } else {
      const res = req.resolution;
      if (!Number.isInteger(res) || res < 0 || res > 15) throw new HextwinError('BAD_REQUEST', 'resolution must be a whole number from 0 to 15');
      groups = partialGroups(twins, (t) => (t.lat === undefined || t.lng === undefined ? undefined : latLngToCell(t.lat, t.lng, res)), req.metrics, filter);
    }
    return [pack({ node: host.self, partitions: host.localPartitions(), groups } satisfies PartialAnswer)];
  };
}

/** Merge partial answers into groups, largest count first (then by key). */
export function mergePartials(answers: PartialAnswer[], metrics: MetricSpec[], keyIsJson: boolean): GatherResult<Group> {
  const merged = new Map<string, PartialGroup>();
  const covered = new Set<number>();
  for (const a of answers) {
    for (const p of a.partitions) covered.add(p);
    for (const [key, count, accs] of a.groups) {
      let g = merged.get(key);
      if (!g) merged.set(key, (g = [key, 0, metrics.map(() => [0, 0, Infinity, -Infinity] as Acc)]));
      g[1] += count;
      for (let i = 0; i < accs.length; i++) {
        const t = g[2][i]!;
        const s = accs[i]!;
        t[0] += s[0];
        t[1] += s[1];
        t[2] = Math.min(t[2], s[2]);
        t[3] = Math.max(t[3], s[3]);
      }
    }
  }
  const rows: Group[] = [...merged.values()].map(([key, count, accs]) => ({
    key: keyIsJson ? (JSON.parse(key) as JsonValue) : key,
    count,
    values: metrics.map((m, i) => {
      const a = accs[i]!;
      switch (m.op) {
        case 'COUNT':
          return m.field ? a[0] : count;
        case 'SUM':
          return a[0] ? a[1] : null;
        case 'AVG':
          return a[0] ? a[1] / a[0] : null;
        case 'MIN':
          return a[0] ? a[2] : null;
        case 'MAX':
          return a[0] ? a[3] : null;
      }
    }),
  }));
  rows.sort((x, y) => y.count - x.count || (JSON.stringify(x.key) < JSON.stringify(y.key) ? -1 : 1));
  return { rows, complete: covered.size === PARTITIONS, nodes: answers.length };
}
