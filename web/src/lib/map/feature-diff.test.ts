import { describe, expect, it } from 'vitest';
import { FeatureDiff } from './feature-diff.ts';

const pt = (x: number) => ({ type: 'Point' as const, coordinates: [x, 0] });

describe('FeatureDiff', () => {
  it('adds new features, then updates them in later flushes', () => {
    const d = new FeatureDiff();
    d.upsert(1, pt(1), { level: 0 });
    expect(d.flush()).toEqual({ add: [{ type: 'Feature', id: 1, geometry: pt(1), properties: { level: 0 } }] });
    d.upsert(1, pt(2), { level: 4 });
    expect(d.flush()).toEqual({
      update: [{ id: 1, newGeometry: pt(2), addOrUpdateProperties: [{ key: 'level', value: 4 }] }],
    });
  });

  it('removes only the properties an update no longer has', () => {
    const d = new FeatureDiff();
    d.upsert(1, pt(1), { level: 0, note: 'x' });
    d.flush();
    d.upsert(1, pt(1), { level: 2 });
    expect(d.flush()?.update?.[0]).toMatchObject({ removeProperties: ['note'], addOrUpdateProperties: [{ key: 'level', value: 2 }] });
  });

  it('conflates many changes of one feature in a frame into its latest', () => {
    const d = new FeatureDiff();
    for (let i = 0; i < 5; i++) d.upsert(7, pt(i), { n: i });
    const diff = d.flush();
    expect(diff?.add).toHaveLength(1);
    expect(diff?.add?.[0]?.properties).toEqual({ n: 4 });
  });

  it('never sends a feature the source has not seen as a removal', () => {
    const d = new FeatureDiff();
    d.upsert(3, pt(0), {});
    d.remove(3);
    expect(d.flush()).toBeNull();
    d.remove(99);
    expect(d.flush()).toBeNull();
  });

  it('removes every live feature after clear', () => {
    const d = new FeatureDiff();
    d.upsert(1, pt(0), {});
    d.upsert(2, pt(0), {});
    d.flush();
    d.clear();
    expect(d.flush()?.remove?.sort()).toEqual([1, 2]);
    expect(d.size).toBe(0);
  });
});
