import { describe, expect, it } from 'vitest';
import { HextwinError } from '@hextwin/shared';
import { compileFilter, type TwinFilter } from '../../src/index/filter.js';
import { Twins } from './helpers.js';

function fixture(): Twins {
  const w = new Twins();
  w.put('a', { level: 5, name: 'alpha', tags: ['red', 'blue'], driver: { name: 'Ann' }, on: true, obj: { x: 1, y: [2] } });
  w.put('b', { level: 10, name: 'beta', tags: ['green'], driver: { name: 'Bob' }, on: false });
  w.put('c', { level: null, name: 'gamma', tags: [], driver: null });
  w.put('d', { name: 'delta-alpha', level: '7' });
  w.put('e', {});
  return w;
}

const match = (w: Twins, f: TwinFilter) => w.ids(compileFilter(f, w.index));
const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return (e as HextwinError).code;
  }
  return 'no error';
};

describe('comparison ops', () => {
  const w = fixture();
  it('EQ matches equal values and fails on missing or null fields', () => {
    expect(match(w, { field: 'level', op: 'EQ', value: 5 })).toEqual(['a']);
    expect(match(w, { field: 'level', op: 'EQ', value: '7' })).toEqual(['d']);
    expect(match(w, { field: 'obj', op: 'EQ', value: { y: [2], x: 1 } })).toEqual(['a']);
  });
  it('NE is true for missing and null fields', () => {
    expect(match(w, { field: 'level', op: 'NE', value: 5 })).toEqual(['b', 'c', 'd', 'e']);
  });
  it('GT, GTE, LT, LTE compare numbers with numbers only', () => {
    expect(match(w, { field: 'level', op: 'GT', value: 5 })).toEqual(['b']);
    expect(match(w, { field: 'level', op: 'GTE', value: 5 })).toEqual(['a', 'b']);
    expect(match(w, { field: 'level', op: 'LT', value: 10 })).toEqual(['a']);
    expect(match(w, { field: 'level', op: 'LTE', value: 10 })).toEqual(['a', 'b']);
  });
  it('ordering ops compare strings with strings', () => {
    expect(match(w, { field: 'name', op: 'GT', value: 'beta' })).toEqual(['c', 'd']);
    expect(match(w, { field: 'name', op: 'LTE', value: 'beta' })).toEqual(['a', 'b']);
    expect(match(w, { field: 'level', op: 'GT', value: '0' })).toEqual(['d']);
  });
  it('IN matches any listed value, objects included', () => {
    expect(match(w, { field: 'level', op: 'IN', value: [10, '7', null] })).toEqual(['b', 'd']);
    expect(match(w, { field: 'driver', op: 'IN', value: [{ name: 'Bob' }] })).toEqual(['b']);
    expect(match(w, { field: 'level', op: 'IN', value: [] })).toEqual([]);
  });
  it('CONTAINS finds an array element or a substring', () => {
    expect(match(w, { field: 'tags', op: 'CONTAINS', value: 'blue' })).toEqual(['a']);
    expect(match(w, { field: 'name', op: 'CONTAINS', value: 'alpha' })).toEqual(['a', 'd']);
    expect(match(w, { field: 'level', op: 'CONTAINS', value: 5 })).toEqual([]);
  });
  it('EXISTS is false for missing and null fields; value false inverts it', () => {
    expect(match(w, { field: 'level', op: 'EXISTS' })).toEqual(['a', 'b', 'd']);
    expect(match(w, { field: 'level', op: 'EXISTS', value: false })).toEqual(['c', 'e']);
    expect(match(w, { field: 'tags', op: 'EXISTS' })).toEqual(['a', 'b', 'c']);
  });
  it('reads dotted paths through objects and arrays', () => {
    expect(match(w, { field: 'driver.name', op: 'EQ', value: 'Ann' })).toEqual(['a']);
    expect(match(w, { field: 'driver.name', op: 'NE', value: 'Ann' })).toEqual(['b', 'c', 'd', 'e']);
    expect(match(w, { field: 'tags.0', op: 'EQ', value: 'green' })).toEqual(['b']);
    expect(match(w, { field: 'obj.y.0', op: 'GTE', value: 2 })).toEqual(['a']);
  });
  it('never reads prototype properties as fields', () => {
    expect(match(w, { field: 'constructor', op: 'EXISTS' })).toEqual([]);
    expect(match(w, { field: 'tags.length', op: 'EXISTS' })).toEqual([]);
    expect(match(w, { field: 'name.length', op: 'EXISTS' })).toEqual([]);
  });
  it('reads twin fields with $ paths', () => {
    expect(match(w, { field: '$id', op: 'IN', value: ['a', 'e'] })).toEqual(['a', 'e']);
  });
  it('matches booleans by EQ', () => {
    expect(match(w, { field: 'on', op: 'EQ', value: false })).toEqual(['b']);
  });
});

describe('combinators', () => {
  const w = fixture();
  it('ANDs conditions side by side in one object', () => {
    expect(match(w, { field: 'level', op: 'GTE', value: 5, and: [{ field: 'name', op: 'EQ', value: 'beta' }] })).toEqual(['b']);
  });
  it('and / or / not combine filters', () => {
    expect(
      match(w, {
        or: [
          { field: 'level', op: 'EQ', value: 5 },
          { field: 'name', op: 'EQ', value: 'gamma' },
        ],
      }),
    ).toEqual(['a', 'c']);
    expect(match(w, { not: { field: 'level', op: 'EXISTS' } })).toEqual(['c', 'e']);
    expect(match(w, { and: [{ field: 'tags', op: 'EXISTS' }, { not: { field: 'tags', op: 'CONTAINS', value: 'red' } }] })).toEqual(['b', 'c']);
  });
  it('an empty filter matches everything, an empty or nothing', () => {
    expect(match(w, {})).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(match(w, { and: [] })).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(match(w, { or: [] })).toEqual([]);
  });
});

describe('invalid filters', () => {
  const w = fixture();
  it.each<[string, TwinFilter]>([
    ['op without field', { op: 'EQ', value: 1 }],
    ['field without op', { field: 'level' }],
    ['comparison with null value', { field: 'level', op: 'EQ', value: null }],
    ['GT with a boolean', { field: 'level', op: 'GT', value: true }],
    ['IN with a non-list', { field: 'level', op: 'IN', value: 3 }],
    ['EXISTS with a number', { field: 'level', op: 'EXISTS', value: 3 }],
    ['empty path segment', { field: 'driver..name', op: 'EXISTS' }],
    ['unknown twin field', { field: '$nope', op: 'EXISTS' }],
    ['bbox of 3 numbers', { within: { bbox: [1, 2, 3] } }],
    ['bbox south above north', { within: { bbox: [0, 10, 1, 5] } }],
    ['near with negative km', { within: { near: { lat: 0, lng: 0, km: -1 } } }],
    ['invalid H3 cell', { within: { cells: ['not-a-cell'] } }],
    ['nested invalid part', { or: [{ field: 'a', op: 'EQ', value: 1 }, { not: { op: 'EXISTS' } }] }],
  ])('refuses %s with INVALID_FILTER', (_name, f) => {
    expect(codeOf(() => compileFilter(f, w.index))).toBe('INVALID_FILTER');
  });
  it('names the offending part in the message', () => {
    expect(() => compileFilter({ and: [{}, { field: 'x', op: 'IN', value: 1 }] }, w.index)).toThrow(/where\.and\[1\]/);
  });
});
