import { describe, expect, it } from 'vitest';
import { formatTable } from '../../bench/lib/table.js';

describe('formatTable', () => {
  it('lines figures up with their ratio to the floor, and says when a floor did not run', () => {
    const t = formatTable([
      { name: 'floor.json-parse', value: 1_000_000, unit: 'msgs/s', floor: null, ratio: null, goal: null },
      { name: 'ws.ingest', value: 600_000, unit: 'msgs/s', floor: 'floor.json-parse', ratio: 0.6, goal: 'ratio >= 0.5' },
      { name: 'gql.hex', value: 12.345, unit: 'ms', floor: 'floor.h3-group-res5', ratio: null, goal: '<= 100 ms' },
    ]).split('\n');
    expect(t[0]).toMatch(/^figure\s+value\s+unit\s+ratio to floor\s+goal$/);
    expect(t[2]).toMatch(/^floor\.json-parse\s+1,000,000\s+msgs\/s$/);
    expect(t[3]).toContain('0.60 × floor.json-parse');
    expect(t[3]).toContain('ratio >= 0.5');
    expect(t[4]).toContain('12.3');
    expect(t[4]).toContain('(floor.h3-group-res5 not measured)');
  });
});
