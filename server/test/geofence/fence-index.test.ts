import { describe, expect, it } from 'vitest';
import { compileFence, parseGeofence, type Fence } from '../../src/geofence/fence.js';
import { FenceIndex } from '../../src/geofence/fence-index.js';

const box = (name: string, w: number, s: number, e: number, n: number): Fence =>
  compileFence(
    parseGeofence({
      name,
      shape: {
        type: 'Polygon',
        coordinates: [
          [
            [w, s],
            [e, s],
            [e, n],
            [w, n],
          ],
        ],
      },
    }),
    'api',
    0,
  );

const at = (ix: FenceIndex, lat: number, lng: number) => {
  const out: string[] = [];
  ix.containing(lat, lng, (f) => out.push(f.name));
  return out.sort();
};

describe('FenceIndex', () => {
  it('finds small, large and world-sized fences, each once, and no others', () => {
    const ix = new FenceIndex();
    ix.add(box('street', 13.4, 52.5, 13.401, 52.501));
    ix.add(box('city', 13.0, 52.3, 13.8, 52.7));
    ix.add(box('country', 5.0, 47.0, 15.0, 55.0));
    ix.add(box('world', -180, -90, 180, 90));
    ix.add(box('elsewhere', 100, 10, 101, 11));
    expect(at(ix, 52.5005, 13.4005)).toEqual(['city', 'country', 'street', 'world']);
    expect(at(ix, 52.6, 13.5)).toEqual(['city', 'country', 'world']);
    expect(at(ix, 10.5, 100.5)).toEqual(['elsewhere', 'world']);
    expect(at(ix, -30, -60)).toEqual(['world']);
  });

  it('finds a fence from every grid cell its box spans, including its edges', () => {
    const ix = new FenceIndex();
    ix.add(box('b', 13.395, 52.495, 13.425, 52.525));
    for (const lat of [52.495, 52.5, 52.51, 52.525]) for (const lng of [13.395, 13.41, 13.425]) expect(at(ix, lat, lng), `${lat},${lng}`).toEqual(['b']);
    expect(at(ix, 52.5251, 13.41)).toEqual([]);
  });

  it('forgets a removed fence and replaces a fence put again under its name', () => {
    const ix = new FenceIndex();
    ix.add(box('a', 0, 0, 1, 1));
    ix.add(box('b', 0, 0, 1, 1));
    expect(ix.remove('a')).toBe(true);
    expect(ix.remove('a')).toBe(false);
    expect(at(ix, 0.5, 0.5)).toEqual(['b']);
    ix.add(box('b', 2, 2, 3, 3));
    expect(at(ix, 0.5, 0.5)).toEqual([]);
    expect(at(ix, 2.5, 2.5)).toEqual(['b']);
    expect(ix.size).toBe(1);
  });

  it('tests few candidates per point among 10,000 small fences', () => {
    const ix = new FenceIndex();
    let tested = 0;
    for (let i = 0; i < 10_000; i++) {
      const f = box(`f${i}`, (i % 100) * 0.05, Math.floor(i / 100) * 0.05, (i % 100) * 0.05 + 0.02, Math.floor(i / 100) * 0.05 + 0.02);
      const inner = f.contains;
      ix.add({ ...f, contains: (lat, lng) => (tested++, inner(lat, lng)) });
    }
    expect(at(ix, 0.01, 0.01)).toEqual(['f0']);
    expect(at(ix, 2.51, 1.01)).toEqual(['f5020']);
    expect(at(ix, 0.03, 0.03)).toEqual([]);
    expect(tested).toBeLessThan(20);
  });
});
