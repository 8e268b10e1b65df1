/**
 * Which node should own each partition, given the live nodes: every node computes the same answer
 * from the same set. Each partition prefers nodes in rendezvous-hash order (so adding or removing
 * a node moves few partitions), and no node takes more than its fair share, ceil(P / nodes).
 */
import { PARTITIONS, twinHash } from '@hextwin/shared';

/** A well-mixed 32-bit score of (node, partition): FNV-1a followed by murmur3's finalizer. */
function score(node: string, partition: number): number {
  let h = twinHash(node, String(partition));
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The target owner of every partition (index = partition); empty when there are no nodes. */
export function targetOwners(nodes: readonly string[], partitions = PARTITIONS): string[] {
  const sorted = [...new Set(nodes)].sort();
  if (!sorted.length) return [];
  const cap = Math.ceil(partitions / sorted.length);
  const count = new Map(sorted.map((n) => [n, 0]));
  const out: string[] = new Array(partitions);
  for (let p = 0; p < partitions; p++) {
    const ranked = sorted.map((n) => ({ n, s: score(n, p) })).sort((a, b) => b.s - a.s || (a.n < b.n ? -1 : 1));
    for (const { n } of ranked) {
      if (count.get(n)! < cap) {
        out[p] = n;
        count.set(n, count.get(n)! + 1);
        break;
      }
    }
  }
  return out;
}
