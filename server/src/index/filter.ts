/**
 * The filter language of `twins`, `aggregate`, `hexAggregate` and the continuous queries, compiled
 * once into a predicate over indexed twins.
 *
 * Semantics (DESIGN.md): conditions side by side in one object are ANDed; `field` is a dotted path
 * into the state; a missing or null field fails every comparison except NE (true) and EXISTS
 * (false); CONTAINS means an element of an array or a substring of a string; ordering ops compare
 * numbers with numbers and strings with strings only. Geo conditions need a located twin: bbox edges
 * are inclusive and `west > east` crosses the antimeridian; `near` is a great-circle distance;
 * `cells` are H3 cells of any resolution, matched as `latLngToCell(lat, lng, res(cell)) == cell`.
 * EXISTS with `value: false` matches twins whose field is missing or null. `$level` is the twin's
 * level (a Severity name, missing when normal); the other `$` fields are in field-path.ts.
 */
import { haversineKmBetween, HextwinError } from '@hextwin/shared';
import type { TwinView } from '../engine/types.js';
import { fieldGetter } from './field-path.js';
import { levelOf } from './level.js';
import { comparable, isMissing, jsonEquals } from './values.js';
import { inBBox, parseCell, type BBox } from './geo.js';
import type { ModelIndex } from './model-index.js';

/** The filter field that reads the twin's level (its model's `level(state)`), e.g. `{ field: "$level", op: EXISTS }`. */
export const LEVEL_FIELD = '$level';

export const FilterOps = ['EQ', 'NE', 'GT', 'GTE', 'LT', 'LTE', 'IN', 'CONTAINS', 'EXISTS'] as const;
export type FilterOp = (typeof FilterOps)[number];

export interface GeoFilter {
  bbox?: readonly number[] | null;
  near?: { lat: number; lng: number; km: number } | null;
  cells?: readonly string[] | null;
}

export interface TwinFilter {
  and?: readonly TwinFilter[] | null;
  or?: readonly TwinFilter[] | null;
  not?: TwinFilter | null;
  field?: string | null;
  op?: FilterOp | null;
  value?: unknown;
  within?: GeoFilter | null;
}

/** True when the twin in `slot` matches. */
export type Predicate = (twin: TwinView, slot: number) => boolean;

export const matchAll: Predicate = () => true;

const MAX_NODES = 1_000;
const MAX_DEPTH = 32;
const MAX_LIST = 10_000;

const bad = (where: string, why: string) => new HextwinError('INVALID_FILTER', `${where}: ${why}`);

interface Budget {
  nodes: number;
}

/** Compile a filter for one model's index; throws INVALID_FILTER naming the offending part. */
export function compileFilter(filter: TwinFilter | null | undefined, index: ModelIndex, where = 'where'): Predicate {
  if (filter === null || filter === undefined) return matchAll;
  return compileNode(filter, index, where, 0, { nodes: 0 });
}

function compileNode(f: TwinFilter, index: ModelIndex, where: string, depth: number, budget: Budget): Predicate {
  if (typeof f !== 'object' || f === null || Array.isArray(f)) throw bad(where, 'expected a filter object');
  if (depth > MAX_DEPTH) throw bad(where, `filters nest more than ${MAX_DEPTH} deep`);
  if (++budget.nodes > MAX_NODES) throw bad(where, `a filter may have at most ${MAX_NODES} conditions`);
  const parts: Predicate[] = [];
  if (f.and !== null && f.and !== undefined) {
    if (!Array.isArray(f.and)) throw bad(where + '.and', 'expected a list of filters');
    const subs = f.and.map((s, i) => compileNode(s, index, `${where}.and[${i}]`, depth + 1, budget));
    parts.push(allOf(subs));
  }
  if (f.or !== null && f.or !== undefined) {
    if (!Array.isArray(f.or)) throw bad(where + '.or', 'expected a list of filters');
    const subs = f.or.map((s, i) => compileNode(s, index, `${where}.or[${i}]`, depth + 1, budget));
    parts.push(subs.length === 1 ? subs[0]! : (t, s) => subs.some((p) => p(t, s)));
  }
  if (f.not !== null && f.not !== undefined) {
    const sub = compileNode(f.not, index, where + '.not', depth + 1, budget);
    parts.push((t, s) => !sub(t, s));
  }
  const hasField = f.field !== null && f.field !== undefined;
  const hasOp = f.op !== null && f.op !== undefined;
  if (hasField || hasOp) {
    if (!hasField) throw bad(where, `op ${f.op} needs a field`);
    if (!hasOp) throw bad(where, `field ${JSON.stringify(f.field)} needs an op`);
    parts.push(compileComparison(f.field!, f.op!, f.value, where, index));
  } else if (f.value !== undefined && f.value !== null) {
    throw bad(where, 'value needs a field and an op');
  }
  if (f.within !== null && f.within !== undefined) parts.push(compileGeo(f.within, index, where + '.within'));
  return allOf(parts);
}

function allOf(parts: Predicate[]): Predicate {
  if (parts.length === 0) return matchAll;
  if (parts.length === 1) return parts[0]!;
  if (parts.length === 2) {
    const [a, b] = parts as [Predicate, Predicate];
    return (t, s) => a(t, s) && b(t, s);
  }
  return (t, s) => parts.every((p) => p(t, s));
}

const isPrimitive = (v: unknown): v is string | number | boolean => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';

function compileComparison(field: string, op: FilterOp, value: unknown, where: string, index: ModelIndex): Predicate {
  if (typeof field !== 'string') throw bad(where, 'field must be a string');
  let get: (t: TwinView) => unknown;
  try {
    // $level is the model's level(state), a Severity name or missing (normal)
    get = field === LEVEL_FIELD ? (t) => levelOf(index.level, t) : fieldGetter(field);
  } catch (e) {
    throw bad(where, (e as Error).message);
  }
  const needValue = () => {
    if (isMissing(value)) throw bad(where, `op ${op} needs a non-null value (use EXISTS to test for a missing or null field)`);
  };
  switch (op) {
    case 'EQ': {
      needValue();
      if (isPrimitive(value)) return (t) => get(t) === value;
      return (t) => jsonEquals(get(t), value);
    }
    case 'NE': {
      needValue();
      if (isPrimitive(value)) return (t) => get(t) !== value;
      return (t) => !jsonEquals(get(t), value);
    }
    case 'GT':
    case 'GTE':
    case 'LT':
    case 'LTE': {
      needValue();
      if (typeof value !== 'number' && typeof value !== 'string') throw bad(where, `op ${op} compares numbers or strings; got ${JSON.stringify(value)}`);
      const test = op === 'GT' ? (c: number) => c > 0 : op === 'GTE' ? (c: number) => c >= 0 : op === 'LT' ? (c: number) => c < 0 : (c: number) => c <= 0;
      if (typeof value === 'number') {
        // the common case, kept free of calls: a non-number field fails
        if (op === 'GT')
          return (t) => {
            const v = get(t);
            return typeof v === 'number' && v > value;
          };
        if (op === 'GTE')
          return (t) => {
            const v = get(t);
            return typeof v === 'number' && v >= value;
          };
        if (op === 'LT')
          return (t) => {
            const v = get(t);
            return typeof v === 'number' && v < value;
          };
        return (t) => {
          const v = get(t);
          return typeof v === 'number' && v <= value;
        };
      }
      return (t) => {
        const c = comparable(get(t), value);
        return c !== undefined && test(c);
      };
    }
    case 'IN': {
      if (!Array.isArray(value)) throw bad(where, 'op IN needs a list value');
      if (value.length > MAX_LIST) throw bad(where, `op IN takes at most ${MAX_LIST} values`);
      const list = value.filter((v) => !isMissing(v));
      if (list.every(isPrimitive)) {
        const set = new Set<unknown>(list);
        return (t) => set.has(get(t));
      }
      return (t) => {
        const v = get(t);
        return !isMissing(v) && list.some((x) => jsonEquals(v, x));
      };
    }
    case 'CONTAINS': {
      needValue();
      return (t) => {
        const v = get(t);
        if (Array.isArray(v)) return isPrimitive(value) ? v.includes(value) : v.some((x) => jsonEquals(x, value));
        return typeof v === 'string' && typeof value === 'string' && v.includes(value);
      };
    }
    case 'EXISTS': {
      if (isMissing(value) || value === true) return (t) => !isMissing(get(t));
      if (value === false) return (t) => isMissing(get(t));
      throw bad(where, 'op EXISTS takes no value, or true / false');
    }
    default:
      throw bad(where, `unknown op ${JSON.stringify(op)}; expected one of ${FilterOps.join(', ')}`);
  }
}

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function compileGeo(g: GeoFilter, index: ModelIndex, where: string): Predicate {
  if (typeof g !== 'object' || g === null) throw bad(where, 'expected a geo filter object');
  const parts: Predicate[] = [];
  if (g.bbox !== null && g.bbox !== undefined) {
    const b = g.bbox;
    if (!Array.isArray(b) || b.length !== 4 || !b.every(finite)) throw bad(where + '.bbox', 'expected [west, south, east, north] as 4 numbers');
    const box: BBox = { west: b[0]!, south: b[1]!, east: b[2]!, north: b[3]! };
    if (Math.abs(box.west) > 180 || Math.abs(box.east) > 180) throw bad(where + '.bbox', 'west and east must be within -180..180');
    if (Math.abs(box.south) > 90 || Math.abs(box.north) > 90) throw bad(where + '.bbox', 'south and north must be within -90..90');
    if (box.south > box.north) throw bad(where + '.bbox', 'south must not be greater than north');
    parts.push((_t, s) => {
      const la = index.lat[s]!;
      return la === la && inBBox(box, la, index.lng[s]!);
    });
  }
  if (g.near !== null && g.near !== undefined) {
    const n = g.near;
    if (!finite(n.lat) || Math.abs(n.lat) > 90 || !finite(n.lng) || Math.abs(n.lng) > 180)
      throw bad(where + '.near', 'lat must be within -90..90 and lng within -180..180');
    if (!finite(n.km) || n.km < 0) throw bad(where + '.near', 'km must be a number >= 0');
    parts.push((_t, s) => {
      const la = index.lat[s]!;
      return la === la && haversineKmBetween(n.lat, n.lng, la, index.lng[s]!) <= n.km;
    });
  }
  if (g.cells !== null && g.cells !== undefined) {
    if (!Array.isArray(g.cells)) throw bad(where + '.cells', 'expected a list of H3 cells');
    if (g.cells.length > MAX_LIST) throw bad(where + '.cells', `at most ${MAX_LIST} cells`);
    const byRes = new Map<number, Set<number>>();
    for (const c of g.cells) {
      const p = parseCell(c);
      if (!p) throw bad(where + '.cells', `${JSON.stringify(c)} is not a valid H3 cell`);
      let set = byRes.get(p.res);
      if (!set) byRes.set(p.res, (set = new Set()));
      set.add(p.key);
    }
    const groups = [...byRes];
    parts.push((_t, s) => {
      const la = index.lat[s]!;
      if (la !== la) return false;
      for (let i = 0; i < groups.length; i++) {
        const [r, keys] = groups[i]!;
        if (keys.has(index.cellKey(s, r))) return true;
      }
      return false;
    });
  }
  return allOf(parts);
}
