import { describe, expect, it } from 'vitest';
import { csvCell, twinsToCsv } from './csv.ts';

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

  it('neutralises cells a spreadsheet would run as a formula, in ids, state values and state keys', () => {
    const csv = twinsToCsv([
      {
        model: 'm',
        id: '=HYPERLINK("http://evil.example","x")',
        lat: -33.9,
        lng: 18.4,
        updatedAt: null,
        level: null,
        state: { a: '+1+1', b: '-2+3', c: '@SUM(A1)', d: '\t=1', e: '\r=1', '=cmd': 'safe', n: -5 },
      },
    ]);
    const [head, row] = csv.split('\r\n');
    expect(head).toBe('model,id,lat,lng,updatedAt,state.=cmd,state.a,state.b,state.c,state.d,state.e,state.n');
    const cells = row!.split(',');
    expect(cells[1]).toBe(`"'=HYPERLINK(""http://evil.example""`);
    expect(row).toContain(",-33.9,18.4,,safe,'+1+1,'-2+3,'@SUM(A1),'\t=1,\"'\r=1\",-5");
  });

  it('prefixes every formula start character OWASP lists, and only at the start of a cell', () => {
    for (const c of ['=', '+', '-', '@', '\t']) expect(csvCell(`${c}x`)).toBe(`'${c}x`);
    expect(csvCell('\rx')).toBe(`"'\rx"`);
    expect(csvCell('a=b')).toBe('a=b');
    expect(csvCell('-1,2')).toBe(`"'-1,2"`);
    expect(csvCell('=A1&"x"')).toBe(`"'=A1&""x"""`);
    expect(csvCell('')).toBe('');
  });
});
