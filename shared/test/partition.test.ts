import { describe, expect, it } from 'vitest';
import { PARTITIONS, partition } from '../src/partition.js';
import { keyString, parseKeyString, twinHash } from '../src/twin-key.js';

describe('Partition function', () => {
  it('is stable across versions: these values must never change', () => {
    // the cluster's partition ownership depends on these exact values
    expect(twinHash('gas-sensor', 's1')).toBe(397461788);
    expect([partition('gas-sensor', 's1'), partition('grid-node', 'n-0'), partition('truck', 'T-17')]).toEqual([28, 228, 162]);
  });

  it('spreads ids evenly over the partitions', () => {
    const counts = new Array(PARTITIONS).fill(0);
    for (let i = 0; i < 256_000; i++) counts[partition('grid-node', `node-${i}`)]++;
    expect(Math.min(...counts)).toBeGreaterThan(800);
    expect(Math.max(...counts)).toBeLessThan(1200);
  });

  it('round-trips key strings, ids may contain slashes', () => {
    expect(parseKeyString(keyString('truck', 'fleet/7'))).toEqual({ model: 'truck', id: 'fleet/7' });
  });
});
