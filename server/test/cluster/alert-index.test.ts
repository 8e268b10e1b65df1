import { describe, expect, it } from 'vitest';
import { AlertIndex, alertPartition, partitionTag } from '../../src/cluster/alert-index.js';
import type { AlertRecord } from '../../src/engine/types.js';

const alert = (id: string, over: Partial<AlertRecord> = {}): AlertRecord => ({
  id,
  model: 'm',
  twinId: 't',
  severity: 'WARNING',
  title: 'x',
  message: null,
  at: 1,
  acknowledged: false,
  data: null,
  ...over,
});

describe('Cluster alert index', () => {
  it('lists alerts newest first even when they arrive out of order, once each', () => {
    const ix = new AlertIndex();
    expect(ix.add(alert('b'))).toBe(true);
    expect(ix.add(alert('d'))).toBe(true);
    expect(ix.add(alert('a'))).toBe(true);
    expect(ix.add(alert('c'))).toBe(true);
    expect(ix.add(alert('c'))).toBe(false);
    expect(ix.query({}).map((a) => a.id)).toEqual(['d', 'c', 'b', 'a']);
  });

  it('filters by model, twin, severity, time and acknowledgement', () => {
    const ix = new AlertIndex();
    ix.add(alert('1', { model: 'a', severity: 'INFO', at: 10 }));
    ix.add(alert('2', { model: 'b', severity: 'CRITICAL', at: 20, twinId: 'x' }));
    ix.add(alert('3', { model: 'b', severity: 'ERROR', at: 30 }));
    ix.acknowledge('3');
    expect(ix.query({ model: 'b' }).map((a) => a.id)).toEqual(['3', '2']);
    expect(ix.query({ minSeverity: 'ERROR', acknowledged: false }).map((a) => a.id)).toEqual(['2']);
    expect(ix.query({ since: 15, twinId: 'x' }).map((a) => a.id)).toEqual(['2']);
    expect(ix.forTwin('b', 'x', 5).map((a) => a.id)).toEqual(['2']);
  });

  it('keeps a bounded number of alerts, dropping the oldest', () => {
    const ix = new AlertIndex(100);
    for (let i = 0; i < 200; i++) ix.add(alert(String(i).padStart(4, '0')));
    expect(ix.size).toBeLessThanOrEqual(110);
    expect(ix.query({ limit: 1 })[0]!.id).toBe('0199');
    expect(ix.get('0000')).toBeUndefined();
  });

  it('finds the partition that raised an alert from its id', () => {
    for (const p of [0, 7, 35, 255]) expect(alertPartition('00000000a000001' + partitionTag(p))).toBe(p);
    expect(alertPartition('no-tag')).toBeUndefined();
  });
});
