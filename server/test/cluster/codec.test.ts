import { describe, expect, it } from 'vitest';
import { decodeRecord, encodeRecord, envelopeCount, type WireRecord } from '../../src/cluster/codec.js';

describe('Log record encoding', () => {
  it('round-trips source groups, hops, control and an explicit position', () => {
    const r: WireRecord = {
      groups: [
        { source: { connector: 'ws', connection: 'c1', node: 'n1' }, envelopes: [{ model: 'm', id: 'a', message: { x: 1, y: [1, 'two', null] } }] },
        {
          source: null,
          envelopes: [
            { model: 'm', id: 'b', message: 'text' },
            { model: 'k', id: 'é/ü', message: 3.5 },
          ],
        },
      ],
      hops: 2,
      control: 'remove',
      pos: 42,
    };
    expect(decodeRecord(encodeRecord(r))).toEqual(r);
    expect(envelopeCount(r)).toBe(3);
  });

  it('leaves out what a plain device batch does not carry', () => {
    const r: WireRecord = { groups: [{ source: { connector: 'rest' }, envelopes: [{ model: 'm', id: 'a', message: {} }] }] };
    expect(decodeRecord(encodeRecord(r))).toEqual(r);
  });

  it('refuses bytes that are not a log record', () => {
    expect(() => decodeRecord(encodeRecord({ groups: [] }).subarray(0, 2))).toThrow();
  });
});
