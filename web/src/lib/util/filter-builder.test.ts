import { describe, expect, it } from 'vitest';
import { describeFilter, emptyGroup, newCondition, parseScalar, parseValue, toTwinFilter } from './filter-builder.ts';

describe('parseValue', () => {
  it('types numbers, booleans and null, and keeps quoted numbers as strings', () => {
    expect(parseScalar('12.5')).toBe(12.5);
    expect(parseScalar('-3')).toBe(-3);
    expect(parseScalar('true')).toBe(true);
    expect(parseScalar('null')).toBeNull();
    expect(parseScalar('"12"')).toBe('12');
    expect(parseScalar(' severe ')).toBe('severe');
  });

  it('splits IN lists on commas and sends no value for EXISTS', () => {
    expect(parseValue('IN', 'minor, severe, 3')).toEqual(['minor', 'severe', 3]);
    expect(parseValue('EXISTS', 'anything')).toBeUndefined();
  });
});

describe('toTwinFilter', () => {
  it('nests AND and OR groups and unwraps groups of one', () => {
    const root = emptyGroup('and');
    const or = emptyGroup('or');
    or.children.push(newCondition('condition', 'EQ', 'severe'), newCondition('alertLevel', 'GTE', '10'));
    root.children.push(newCondition('region', 'EQ', 'west'), or);
    expect(toTwinFilter(root)).toEqual({
      and: [
        { field: 'region', op: 'EQ', value: 'west' },
        {
          or: [
            { field: 'condition', op: 'EQ', value: 'severe' },
            { field: 'alertLevel', op: 'GTE', value: 10 },
          ],
        },
      ],
    });
    const single = emptyGroup('or');
    single.children.push(newCondition('ppm', 'GT', '50'));
    expect(toTwinFilter(single)).toEqual({ field: 'ppm', op: 'GT', value: 50 });
  });

  it('leaves out conditions without a field, and is null when nothing is left', () => {
    const root = emptyGroup();
    root.children.push(newCondition('', 'EQ', 'x'), emptyGroup('or'));
    expect(toTwinFilter(root)).toBeNull();
  });

  it('reads back as text', () => {
    const root = emptyGroup('or');
    root.children.push(newCondition('ppm', 'GT', '50'), newCondition('site', 'EXISTS'));
    expect(describeFilter(root)).toBe('(ppm > 50 or site exists)');
  });
});
