import { describe, expect, it } from 'vitest';
import { compileFilter } from '../../src/index/filter.js';
import { TwinChangeFeed, type TwinChangeEvent } from '../../src/index/live-twins.js';
import { Twins } from './helpers.js';

const hot = { field: 'level', op: 'GTE' as const, value: 10 };

function feed(w: Twins, throttleMs = 0): TwinChangeFeed {
  return new TwinChangeFeed(w.index, compileFilter(hot, w.index), throttleMs);
}

const brief = (e: TwinChangeEvent) => `${e.kind} ${e.id} ${e.twin ? JSON.stringify((e.twin.state as { level?: number }).level) : 'null'}`;

async function take(f: TwinChangeFeed, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await f.next();
    if (r.done) break;
    out.push(brief(r.value));
  }
  return out;
}

describe('twin change feed', () => {
  it('starts with the matching set as ENTER, then ENTER / UPDATE / LEAVE', async () => {
    const w = new Twins();
    w.put('a', { level: 12 });
    w.put('b', { level: 3 });
    w.put('c', { level: 20 });
    const f = feed(w);
    expect(await take(f, 2)).toEqual(['ENTER a 12', 'ENTER c 20']);
    w.put('b', { level: 15 });
    expect(await take(f, 1)).toEqual(['ENTER b 15']);
    w.put('a', { level: 13 });
    expect(await take(f, 1)).toEqual(['UPDATE a 13']);
    w.put('c', { level: 1 });
    expect(await take(f, 1)).toEqual(['LEAVE c 1']);
    w.remove('b');
    expect(await take(f, 1)).toEqual(['LEAVE b null']);
    f.close();
  });

  it('conflates many changes of one twin into one event with the latest state', async () => {
    const w = new Twins();
    w.put('a', { level: 10 });
    const f = feed(w);
    expect(await take(f, 1)).toEqual(['ENTER a 10']);
    for (let i = 0; i < 1000; i++) w.put('a', { level: 100 + i });
    w.put('x', { level: 1 });
    expect(f.pending).toBe(2);
    expect(await take(f, 1)).toEqual(['UPDATE a 1099']);
    w.put('a', { level: 7 });
    // x never matched, so it yields nothing; a left
    expect(await take(f, 1)).toEqual(['LEAVE a 7']);
    expect(f.pending).toBe(0);
    f.close();
  });

  it('says nothing for a twin that entered and left before the subscriber looked', async () => {
    const w = new Twins();
    w.put('a', { level: 10 });
    const f = feed(w);
    expect(await take(f, 1)).toEqual(['ENTER a 10']);
    w.put('b', { level: 50 });
    w.put('b', { level: 0 });
    w.put('a', { level: 11 });
    expect(await take(f, 1)).toEqual(['UPDATE a 11']);
    f.close();
  });

  it('keeps pending changes bounded by the twin count while the subscriber does not pull', () => {
    const w = new Twins();
    for (let i = 0; i < 50; i++) w.put('t' + i, { level: i });
    const f = feed(w);
    for (let k = 0; k < 100; k++) for (let i = 0; i < 50; i++) w.put('t' + i, { level: i + k });
    expect(f.pending).toBe(50);
    f.close();
    expect(f.pending).toBe(0);
  });

  it('delivers a twin at most once per throttle round', async () => {
    const w = new Twins();
    w.put('a', { level: 10 });
    const f = feed(w, 40);
    expect(await take(f, 1)).toEqual(['ENTER a 10']);
    w.put('a', { level: 11 });
    const t0 = performance.now();
    const next = f.next();
    w.put('a', { level: 12 });
    const r = await next;
    expect(brief(r.value as TwinChangeEvent)).toBe('UPDATE a 12');
    expect(performance.now() - t0).toBeGreaterThanOrEqual(30);
    f.close();
  });

  it('ends when closed, also while waiting', async () => {
    const w = new Twins();
    const f = feed(w);
    const waiting = f.next();
    await f.return();
    expect((await waiting).done).toBe(true);
  });
});
