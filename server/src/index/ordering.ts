/**
 * Orderings of twins and the opaque cursors of keyset pagination. An ordering is a list of
 * (field, direction) with the twin id ascending as the final tie-break, so it is total and a
 * cursor (the sort values and id of the last twin seen) resumes exactly after that twin, however
 * twins were added or removed in between. Missing and null values sort last in both directions.
 */
import { HextwinError } from '@hextwin/shared';
import type { TwinView } from '../engine/types.js';
import { fieldGetter, type FieldGetter } from './field-path.js';
import { compareValues, isMissing } from './values.js';

export interface TwinOrder {
  field: string;
  direction?: 'ASC' | 'DESC' | null;
}

export interface Ordering {
  /** compares two twins */
  compare(a: TwinView, b: TwinView): number;
  /** compares a twin with a cursor position */
  compareToCursor(a: TwinView, c: CursorPosition): number;
  cursorOf(t: TwinView): string;
  parseCursor(cursor: string): CursorPosition;
}

export interface CursorPosition {
  values: unknown[];
  id: string;
}

const MAX_KEYS = 8;

function compareMissingLast(a: unknown, b: unknown): number {
  const ma = isMissing(a);
  const mb = isMissing(b);
  if (ma || mb) return ma && mb ? 0 : ma ? 1 : -1;
  return compareValues(a, b);
}

const compareIds = (a: string, b: string) => (a === b ? 0 : a < b ? -1 : 1);

export function compileOrdering(orderBy: readonly TwinOrder[] | null | undefined): Ordering {
  const list = orderBy ?? [];
  if (list.length > MAX_KEYS) throw new HextwinError('INVALID_FILTER', `orderBy: at most ${MAX_KEYS} fields`);
  const keys: { get: FieldGetter; desc: boolean }[] = list.map((o, i) => {
    if (!o || typeof o.field !== 'string') throw new HextwinError('INVALID_FILTER', `orderBy[${i}]: field is required`);
    if (o.direction !== undefined && o.direction !== null && o.direction !== 'ASC' && o.direction !== 'DESC')
      throw new HextwinError('INVALID_FILTER', `orderBy[${i}]: direction must be ASC or DESC`);
    try {
      return { get: fieldGetter(o.field), desc: o.direction === 'DESC' };
    } catch (e) {
      throw new HextwinError('INVALID_FILTER', `orderBy[${i}]: ${(e as Error).message}`);
    }
  });
  // the cursor remembers which ordering it belongs to, so it is not used with another
  const signature = list.map((o) => `${o.field}:${o.direction === 'DESC' ? 'D' : 'A'}`).join(',');

  const compareKey = (i: number, va: unknown, vb: unknown): number => {
    const c = compareMissingLast(va, vb);
    // missing stays last when descending too
    return keys[i]!.desc && !isMissing(va) && !isMissing(vb) ? -c : c;
  };

  return {
    compare(a, b) {
      for (let i = 0; i < keys.length; i++) {
        const c = compareKey(i, keys[i]!.get(a), keys[i]!.get(b));
        if (c !== 0) return c;
      }
      return compareIds(a.id, b.id);
    },
    compareToCursor(a, cur) {
      for (let i = 0; i < keys.length; i++) {
        const c = compareKey(i, keys[i]!.get(a), cur.values[i]);
        if (c !== 0) return c;
      }
      return compareIds(a.id, cur.id);
    },
    cursorOf(t) {
      const values = keys.map((k) => {
        const v = k.get(t);
        return v === undefined ? null : v;
      });
      return Buffer.from(JSON.stringify({ o: signature, v: values, id: t.id }), 'utf8').toString('base64url');
    },
    parseCursor(cursor) {
      let parsed: { o?: unknown; v?: unknown; id?: unknown };
      try {
        parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
      } catch {
        throw new HextwinError('BAD_REQUEST', 'after: not a cursor returned by this API');
      }
      if (!parsed || typeof parsed !== 'object' || typeof parsed.id !== 'string' || !Array.isArray(parsed.v)) {
        throw new HextwinError('BAD_REQUEST', 'after: not a cursor returned by this API');
      }
      if (parsed.o !== signature || parsed.v.length !== keys.length) throw new HextwinError('BAD_REQUEST', 'after: the cursor belongs to another orderBy');
      return { values: parsed.v, id: parsed.id };
    },
  };
}
