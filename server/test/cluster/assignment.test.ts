import { describe, expect, it } from 'vitest';
import { PARTITIONS } from '@hextwin/shared';
import { targetOwners } from '../../src/cluster/assignment.js';

const counts = (owners: string[]) => {
  const m = new Map<string, number>();
  for (const o of owners) m.set(o, (m.get(o) ?? 0) + 1);
  return m;
};

describe('Partition assignment', () => {
  it('gives every partition exactly one owner and each node at most its fair share', () => {
    for (const n of [1, 2, 3, 5, 7, 16]) {
      const nodes = Array.from({ length: n }, (_, i) => `node-${i}`);
      const owners = targetOwners(nodes);
      expect(owners).toHaveLength(PARTITIONS);
      expect(owners.every((o) => nodes.includes(o))).toBe(true);
      const cap = Math.ceil(PARTITIONS / n);
      for (const c of counts(owners).values()) expect(c).toBeLessThanOrEqual(cap);
      expect(counts(owners).size).toBe(n);
    }
  });

  it('gives the same answer on every node, whatever order it lists the members in', () => {
    expect(targetOwners(['c', 'a', 'b'])).toEqual(targetOwners(['b', 'c', 'a']));
    expect(targetOwners(['a', 'a', 'b'])).toEqual(targetOwners(['a', 'b']));
  });

  it('moves few partitions when a node joins or leaves', () => {
    const three = targetOwners(['n1', 'n2', 'n3']);
    const four = targetOwners(['n1', 'n2', 'n3', 'n4']);
    const moved = three.filter((o, p) => four[p] !== o).length;
    // the newcomer's fair share is 64; rendezvous order keeps the rest mostly in place
    expect(moved).toBeGreaterThanOrEqual(64);
    expect(moved).toBeLessThanOrEqual(80);
    const two = targetOwners(['n1', 'n3']);
    // partitions n1 and n3 held stay where they were, unless a cap forces a move
    const kept = three.filter((o, p) => o !== 'n2' && two[p] === o).length;
    expect(kept).toBeGreaterThanOrEqual(160);
  });

  it('assigns nothing without nodes', () => {
    expect(targetOwners([])).toEqual([]);
  });
});
