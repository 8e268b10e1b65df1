import { describe, expect, it } from 'vitest';
import { findTwins } from '../../src/index/find.js';
import { rng, Twins } from './helpers.js';

const ids = (p: { edges: { node: { id: string } }[] }) => p.edges.map((e) => e.node.id);

describe('ordering', () => {
  const w = new Twins();
  w.put('a', { v: 3 });
  w.put('b', { v: 1 });
  w.put('c', {});
  w.put('d', { v: 3 });
  w.put('e', { v: null });
  w.put('f', { v: 'x' });

  it('orders by id ascending by default', () => {
    expect(ids(findTwins(w.index, {}))).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
  });
  it('puts missing and null last in both directions, ties broken by id', () => {
    expect(ids(findTwins(w.index, { orderBy: [{ field: 'v', direction: 'ASC' }] }))).toEqual(['b', 'a', 'd', 'f', 'c', 'e']);
    expect(ids(findTwins(w.index, { orderBy: [{ field: 'v', direction: 'DESC' }] }))).toEqual(['f', 'a', 'd', 'b', 'c', 'e']);
  });
  it('orders by several fields', () => {
    const x = new Twins();
    x.put('1', { g: 'b', n: 2 });
    x.put('2', { g: 'a', n: 2 });
    x.put('3', { g: 'b', n: 1 });
    expect(ids(findTwins(x.index, { orderBy: [{ field: 'g' }, { field: 'n', direction: 'DESC' }] }))).toEqual(['2', '1', '3']);
  });
});

describe('pagination', () => {
  it('counts every match and pages with cursors', () => {
    const w = new Twins();
    for (let i = 0; i < 25; i++) w.put('t' + String(i).padStart(2, '0'), { n: i % 5 });
    const p1 = findTwins(w.index, { where: { field: 'n', op: 'GTE', value: 1 }, first: 10 });
    expect(p1.totalCount).toBe(20);
    expect(p1.edges).toHaveLength(10);
    expect(p1.hasNextPage).toBe(true);
    const p2 = findTwins(w.index, { where: { field: 'n', op: 'GTE', value: 1 }, first: 10, after: p1.endCursor });
    const p3 = findTwins(w.index, { where: { field: 'n', op: 'GTE', value: 1 }, first: 10, after: p2.endCursor });
    expect(p2.hasNextPage).toBe(false);
    expect(p3.edges).toHaveLength(0);
    expect(p3.endCursor).toBeNull();
    expect(new Set([...ids(p1), ...ids(p2)]).size).toBe(20);
  });

  it('stays stable when twins are added and removed between pages', () => {
    const rand = rng(11);
    const w = new Twins();
    for (let i = 0; i < 200; i++) w.put('t' + i, { score: Math.floor(rand() * 50) });
    const orderBy = [{ field: 'score', direction: 'DESC' as const }];
    const seen: string[] = [];
    let after: string | null = null;
    const removed = new Set<string>();
    for (let page = 0; page < 100; page++) {
      const p = findTwins(w.index, { orderBy, first: 15, after });
      seen.push(...ids(p));
      // churn behind and ahead of the cursor
      w.put('new' + page, { score: Math.floor(rand() * 50) });
      const victim = 't' + Math.floor(rand() * 200);
      if (w.byId.has(victim)) {
        w.remove(victim);
        removed.add(victim);
      }
      if (!p.hasNextPage) break;
      after = p.endCursor;
    }
    expect(new Set(seen).size).toBe(seen.length);
    // every original twin never removed was seen exactly once
    for (let i = 0; i < 200; i++) if (!removed.has('t' + i)) expect(seen).toContain('t' + i);
    // and the sequence is in order
    const scores = seen.map((id) => w.byId.get(id)?.state.score as number | undefined).filter((s) => s !== undefined);
    for (let i = 1; i < scores.length; i++) expect(scores[i - 1]! >= scores[i]! || scores[i - 1] === undefined).toBe(true);
  });

  it('refuses a cursor of another ordering and a first over 1000', () => {
    const w = new Twins();
    w.put('a', { v: 1 });
    w.put('b', { v: 2 });
    const p = findTwins(w.index, { first: 1 });
    expect(() => findTwins(w.index, { orderBy: [{ field: 'v' }], after: p.endCursor })).toThrow(/another orderBy/);
    expect(() => findTwins(w.index, { after: 'garbage' })).toThrow(/not a cursor/);
    expect(() => findTwins(w.index, { first: 1001 })).toThrow(/first/);
  });
});
