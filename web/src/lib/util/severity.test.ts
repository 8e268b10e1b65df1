import { describe, expect, it } from 'vitest';
import { ALERTING_FILTER, twinLevel } from './severity.ts';

describe('twinLevel', () => {
  it('maps the level a model declares to its map level, and no level to normal', () => {
    expect(twinLevel(null)).toBe(0);
    expect(twinLevel(undefined)).toBe(0);
    expect(twinLevel('INFO')).toBe(1);
    expect(twinLevel('WARNING')).toBe(2);
    expect(twinLevel('ERROR')).toBe(3);
    expect(twinLevel('CRITICAL')).toBe(4);
  });
});

describe('ALERTING_FILTER', () => {
  it('selects twins by their declared level, not by field names of the sample models', () => {
    expect(ALERTING_FILTER).toEqual({ field: '$level', op: 'EXISTS' });
  });
});
