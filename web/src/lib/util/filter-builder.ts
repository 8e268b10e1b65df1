/**
 * The query builder's tree (AND/OR groups of conditions, values typed as text) and its
 * translation into the contract's TwinFilter.
 */
import type { FilterOp, JSONValue, TwinFilter } from '../graphql/types.ts';

export interface Condition {
  kind: 'condition';
  id: string;
  field: string;
  op: FilterOp;
  /** as typed: `12`, `true`, `"12"` (a string), `a, b, c` for IN */
  value: string;
}

export interface ConditionGroup {
  kind: 'group';
  id: string;
  mode: 'and' | 'or';
  children: FilterNode[];
}

export type FilterNode = Condition | ConditionGroup;

let nextId = 0;
export function newId(): string {
  nextId += 1;
  return `n${Date.now().toString(36)}${nextId}`;
}

export function emptyGroup(mode: 'and' | 'or' = 'and'): ConditionGroup {
  return { kind: 'group', id: newId(), mode, children: [] };
}

export function newCondition(field = '', op: FilterOp = 'EQ', value = ''): Condition {
  return { kind: 'condition', id: newId(), field, op, value };
}

/** A typed value from text: numbers, true/false/null, "quoted" strings; anything else is a string. */
export function parseScalar(text: string): JSONValue {
  const t = text.trim();
  if (t === '') return '';
  if (t === 'true') return true;
  if (t === 'false') return false;
  if (t === 'null') return null;
  if (/^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t)) return Number(t);
  if (t.length >= 2 && t.startsWith('"') && t.endsWith('"')) return t.slice(1, -1);
  return t;
}

export function parseValue(op: FilterOp, text: string): JSONValue | undefined {
  if (op === 'EXISTS') return undefined;
  if (op === 'IN')
    return text
      .split(',')
      .map(parseScalar)
      .filter((v) => v !== '');
  return parseScalar(text);
}

/** The TwinFilter of a tree; conditions without a field and empty groups are left out. */
export function toTwinFilter(node: FilterNode): TwinFilter | null {
  if (node.kind === 'condition') {
    const field = node.field.trim();
    if (!field) return null;
    const value = parseValue(node.op, node.value);
    return value === undefined ? { field, op: node.op } : { field, op: node.op, value };
  }
  const parts = node.children.map(toTwinFilter).filter((f): f is TwinFilter => f !== null);
  if (parts.length === 0) return null;
  if (parts.length === 1) return parts[0] ?? null;
  return node.mode === 'and' ? { and: parts } : { or: parts };
}

/** A short human reading of a filter tree, for widget subtitles and result captions. */
export function describeFilter(node: FilterNode): string {
  if (node.kind === 'condition') {
    if (!node.field.trim()) return '';
    return node.op === 'EXISTS' ? `${node.field} exists` : `${node.field} ${OP_TEXT[node.op]} ${node.value.trim()}`;
  }
  const parts = node.children.map(describeFilter).filter(Boolean);
  if (parts.length <= 1) return parts[0] ?? '';
  return `(${parts.join(node.mode === 'and' ? ' and ' : ' or ')})`;
}

export const OP_TEXT: Record<FilterOp, string> = {
  EQ: '=',
  NE: '≠',
  GT: '>',
  GTE: '≥',
  LT: '<',
  LTE: '≤',
  IN: 'in',
  CONTAINS: 'contains',
  EXISTS: 'exists',
};
