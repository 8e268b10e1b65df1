import { describe, expect, it } from 'vitest';
import { twinsToCsv } from './csv.ts';

describe('twinsToCsv', () => {
  it('writes one column per state path across all twins', () => {
    const csv = twinsToCsv([
      { model: 'truck', id: 't1', lat: 1, lng: 2, updatedAt: null, level: null, state: { speedKph: 80, driver: { name: 'Ann' } } },
      { model: 'truck', id: 't2', lat: null, lng: null, updatedAt: null, level: null, state: { status: 'stalled' } },
    ]);
    const [head, a, b] = csv.trim().split('\r\n');
    expect(head).toBe('model,id,lat,lng,updatedAt,state.driver.name,state.speedKph,state.status');
    expect(a).toBe('truck,t1,1,2,,Ann,80,');
    expect(b).toBe('truck,t2,,,,,,stalled');
  });

  it('quotes commas, quotes and line breaks, and writes arrays as JSON', () => {
    const csv = twinsToCsv([{ model: 'm', id: 'a,"b"', lat: null, lng: null, updatedAt: null, level: null, state: { list: [1, 2], note: 'x\ny' } }]);
    expect(csv).toContain('"a,""b"""');
    expect(csv).toContain('"[1,2]"');
    expect(csv).toContain('"x\ny"');
  });
});
