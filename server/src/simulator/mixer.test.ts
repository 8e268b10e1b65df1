import { describe, expect, it } from 'vitest';
import type { Fleet, WireEnvelope } from './fleet.js';
import { Cursor } from './fleet.js';
import { Mixer } from './mixer.js';

/** A fleet that says which device speaks, with `setupSize` init messages. */
function fleet(model: string, size: number, rateShare: number, setupSize = 0): Fleet {
  const cursor = new Cursor(size);
  return {
    model,
    size,
    rateShare,
    setupSize,
    id: (i) => `${model}-${i}`,
    setup: (t) => Array.from({ length: setupSize }, (_, i) => ({ model, id: `${model}-${i}`, message: { type: 'init', t } })),
    next: (t) => ({ model, id: `${model}-${cursor.advance(() => true)}`, message: { t } }),
  };
}

describe('Mixer', () => {
  it('sends every setup message first, stamped with the time it goes out', () => {
    const m = new Mixer([fleet('a', 3, 1, 3), fleet('b', 2, 1), fleet('c', 2, 1, 2)]);
    expect(m.setupSize).toBe(5);
    const first = Array.from({ length: 5 }, (_, k) => m.next(100 + k)!);
    expect(first.map((e) => e.id)).toEqual(['a-0', 'a-1', 'a-2', 'c-0', 'c-1']);
    expect(first[0]!.message).toEqual({ type: 'init', t: 100 });
    expect(first[3]!.message).toEqual({ type: 'init', t: 103 });
    expect(m.settingUp).toBe(false);
    expect((m.next(200)!.message as { type?: string }).type).toBeUndefined();
  });

  it('shares the stream by fleet size times rate share', () => {
    const m = new Mixer([fleet('big', 1_000, 1), fleet('small', 100, 1), fleet('chatty', 10, 5)]);
    const counts = new Map<string, number>();
    for (let k = 0; k < 11_500; k++) {
      const e = m.next(k) as WireEnvelope;
      counts.set(e.model, (counts.get(e.model) ?? 0) + 1);
    }
    expect(counts.get('big')).toBe(10_000);
    expect(counts.get('small')).toBe(1_000);
    expect(counts.get('chatty')).toBe(500);
  });

  it('skips a fleet whose devices are all silent, and says so when every fleet is', () => {
    const quiet: Fleet = { ...fleet('quiet', 100, 1), next: () => undefined };
    const m = new Mixer([quiet, fleet('talk', 1, 1)]);
    for (let k = 0; k < 10; k++) expect(m.next(k)!.model).toBe('talk');
    expect(new Mixer([quiet]).next(0)).toBeUndefined();
  });
});
