/**
 * TypeScript shapes of the parts of shared/graphql/schema.graphql the dashboard uses. Enums and
 * input types come from the types generated from the SDL; the result shapes are what the
 * dashboard's documents select, checked at compile time against the generated types (see the end).
 */
import type * as G from '@hextwin/shared/generated/graphql';

export type JSONValue = null | boolean | number | string | JSONValue[] | { [key: string]: JSONValue };
export type JSONObject = { [key: string]: JSONValue };

export type Severity = G.Severity;
export type FilterOp = G.FilterOp;
export type MetricOp = G.MetricOp;
export type ChangeKind = G.ChangeKind;

/** every value of an SDL enum, in order (the type check below fails when the SDL gains one) */
export const Severities = ['INFO', 'WARNING', 'ERROR', 'CRITICAL'] as const satisfies readonly Severity[];
export const FilterOps = ['EQ', 'NE', 'GT', 'GTE', 'LT', 'LTE', 'IN', 'CONTAINS', 'EXISTS'] as const satisfies readonly FilterOp[];
export const MetricOps = ['COUNT', 'SUM', 'AVG', 'MIN', 'MAX'] as const satisfies readonly MetricOp[];

export interface GeoFilter {
  bbox?: [number, number, number, number];
  near?: { lat: number; lng: number; km: number };
  cells?: string[];
}

export interface TwinFilter {
  and?: TwinFilter[];
  or?: TwinFilter[];
  not?: TwinFilter;
  field?: string;
  op?: FilterOp;
  value?: JSONValue;
  within?: GeoFilter;
}

export interface MetricInput {
  field?: string;
  op: MetricOp;
}

export interface Alert {
  id: string;
  model: string;
  twinId: string;
  severity: Severity;
  title: string;
  message: string | null;
  at: string;
  acknowledged: boolean;
  data: JSONValue;
  /** the twin that raised it, as the feed selects it (null once removed; absent when not selected) */
  twin?: MapTwin | null;
  /** the alarm lifecycle: de-duplicated per twin and type while ACTIVE */
  type: string | null;
  status: AlarmStatus;
  count: number;
  firstAt: string;
  lastAt: string;
  clearedAt: string | null;
  assignee: string | null;
  comment: string | null;
  /** the latest change (in the subscription: the change this event reports) */
  change: AlarmChange;
}

export type AlarmStatus = 'ACTIVE' | 'CLEARED';
export type AlarmChange = 'RAISE' | 'REPEAT' | 'SEVERITY' | 'CLEAR' | 'ACK' | 'ASSIGN' | 'COMMENT';

export interface HistoryEntry {
  at: string;
  state: JSONValue;
}

export interface TwinError {
  at: string;
  code: string;
  message: string;
}

/** A twin as the map and lists see it. */
export interface TwinSummary {
  id: string;
  model: string;
  state: JSONObject;
  lat: number | null;
  lng: number | null;
  updatedAt: string | null;
  /** what the twin's model says about its state (`level(state)`); null when normal */
  level: Severity | null;
}

/**
 * A twin as the map holds it: a large model's streams leave `state` out (it is most of the bytes
 * of a change, and the map draws only position and level); the tooltip fetches it on hover.
 */
export type MapTwin = Omit<TwinSummary, 'state'> & { state?: JSONObject };

/** A twin as the inspector sees it. */
export interface TwinDetail extends TwinSummary {
  createdAt: string | null;
  lastError: TwinError | null;
  pendingCommands: JSONValue[];
  alerts: Alert[];
  /** the last states, newest first (models that keep a history) */
  history: HistoryEntry[];
}

export interface TwinChange {
  kind: ChangeKind;
  id: string;
  twin: TwinSummary | null;
}

/** A change from a stream asked for without state (`withState: false`). */
export type MapTwinChange = Omit<TwinChange, 'twin'> & { twin: MapTwin | null };

export interface TwinConnection {
  totalCount: number;
  edges: { cursor: string; node: TwinSummary }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

export interface Group {
  key: JSONValue;
  count: number;
  values: (number | null)[] | null;
}

export interface HexBin {
  cell: string;
  count: number;
  values: (number | null)[] | null;
}

export interface FieldInfo {
  name: string;
  type: string;
}

export interface ModelInfo {
  name: string;
  description: string | null;
  twinCount: number;
  fields: FieldInfo[];
}

export interface ServerStatus {
  version: string;
  ready: boolean;
  uptimeSeconds: number;
  messagesIn: number;
  messagesApplied: number;
  messagesFailed: number;
  ingestRate: number;
  twins: number;
  mailboxDepth: number;
  connectors: { name: string; state: string; connections: number }[];
  nodes: { id: string; partitions: number; self: boolean }[];
}

/** Whether a field type the server reports holds numbers (so SUM/AVG/MIN/MAX make sense). */
export function isNumericType(type: string): boolean {
  return ['number', 'integer', 'int', 'float', 'double'].includes(type.toLowerCase());
}

/** A geofence as the map draws it (`geometry` is GeoJSON; a circle comes as a polygon). */
export interface Geofence {
  name: string;
  model: string | null;
  geometry: GeoJSON.Polygon | GeoJSON.MultiPolygon;
  bbox: number[];
  dwellMs: number | null;
  alarm: { severity: Severity; type: string } | null;
  source: G.GeofenceSource;
}

export interface GeofenceInput {
  name: string;
  model?: string | null;
  shape: GeoJSON.Polygon | { center: [number, number]; radiusM: number };
  dwellMs?: number | null;
  alarm?: { severity: Severity; type?: string } | null;
}

// ---- kept in step with the generated types: a compile error here means the SDL changed

type Expect<T extends true> = T;
type AllOf<Union, Listed> = [Exclude<Union, Listed>] extends [never] ? true : false;
/** every field the dashboard reads exists on the SDL type */
type FieldsOf<Mine, Generated> = [Exclude<keyof Mine, keyof Generated>] extends [never] ? true : false;
/** the dashboard's input shapes are valid inputs */
type Accepts<Generated, Mine> = Mine extends Generated ? true : false;

export type SchemaChecks = [
  Expect<AllOf<Severity, (typeof Severities)[number]>>,
  Expect<AllOf<FilterOp, (typeof FilterOps)[number]>>,
  Expect<AllOf<MetricOp, (typeof MetricOps)[number]>>,
  Expect<Accepts<G.TwinFilter, TwinFilter>>,
  Expect<Accepts<G.MetricInput, MetricInput>>,
  Expect<FieldsOf<Alert, G.Alert>>,
  Expect<FieldsOf<TwinDetail, G.Twin>>,
  Expect<FieldsOf<TwinChange, G.TwinChange>>,
  Expect<FieldsOf<TwinConnection, G.TwinConnection>>,
  Expect<FieldsOf<Group, G.Group>>,
  Expect<FieldsOf<HexBin, G.HexBin>>,
  Expect<FieldsOf<Geofence, G.Geofence>>,
  Expect<FieldsOf<GeofenceInput, G.GeofenceInput>>,
  Expect<FieldsOf<ModelInfo, G.ModelInfo>>,
  Expect<FieldsOf<FieldInfo, G.FieldInfo>>,
  Expect<FieldsOf<ServerStatus, G.ServerStatus>>,
  Expect<FieldsOf<ServerStatus['connectors'][number], G.ConnectorStatus>>,
  Expect<FieldsOf<ServerStatus['nodes'][number], G.NodeInfo>>,
];
