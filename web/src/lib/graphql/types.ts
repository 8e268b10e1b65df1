/**
 * TypeScript shapes of the parts of shared/graphql/schema.graphql the dashboard uses.
 * Names follow the SDL exactly; keep in step with it.
 */

export type JSONValue = null | boolean | number | string | JSONValue[] | { [key: string]: JSONValue };
export type JSONObject = { [key: string]: JSONValue };

export const Severities = ['INFO', 'WARNING', 'ERROR', 'CRITICAL'] as const;
export type Severity = (typeof Severities)[number];

export const FilterOps = ['EQ', 'NE', 'GT', 'GTE', 'LT', 'LTE', 'IN', 'CONTAINS', 'EXISTS'] as const;
export type FilterOp = (typeof FilterOps)[number];

export const MetricOps = ['COUNT', 'SUM', 'AVG', 'MIN', 'MAX'] as const;
export type MetricOp = (typeof MetricOps)[number];

export type ChangeKind = 'ENTER' | 'UPDATE' | 'LEAVE';

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
}

/** A twin as the inspector sees it. */
export interface TwinDetail extends TwinSummary {
  createdAt: string | null;
  lastError: TwinError | null;
  pendingCommands: JSONValue[];
  alerts: Alert[];
}

export interface TwinChange {
  kind: ChangeKind;
  id: string;
  twin: TwinSummary | null;
}

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
