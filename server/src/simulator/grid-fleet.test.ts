import { describe, expect, it } from 'vitest';
import { continentalUsCities } from './cities.js';
import { haversineKm } from '@hextwin/shared';
import { insideContinentalUs } from './geo.js';
import { GridFleet } from './grid-fleet.js';

const T0 = Date.parse('2025-06-01T00:00:00Z');

describe('GridFleet', () => {
  const fleet = new GridFleet({ count: 20_000, seed: 1 });

  it('has 20,000 nodes with distinct ids and one init message each', () => {
    const setup = fleet.setup(T0);
    expect(setup).toHaveLength(20_000);
    expect(new Set(setup.map((e) => e.id)).size).toBe(20_000);
    expect(setup[0]).toMatchObject({ model: 'grid-node', id: 'node-00001', message: { type: 'init', timestamp: T0 } });
  });

  it('places every node inside the continental US, in a state', () => {
    for (let i = 0; i < fleet.size; i++) {
      expect(insideContinentalUs(fleet.position(i))).toBe(true);
      expect(fleet.region[i]).toMatch(/^[A-Z]{2}$/);
    }
    expect(fleet.region).not.toContain('AK');
    expect(fleet.region).not.toContain('HI');
  });

  it('puts nodes around population centres: far more near New York City than near a small town', () => {
    const cities = continentalUsCities();
    const nyc = cities.find((c) => c.name === 'New York City')!;
    const town = cities.find((c) => c.population < 5_000 && c.state === 'NE')!;
    const nearNyc = fleet.nodesWithin(nyc, 50).length;
    expect(nearNyc).toBeGreaterThan(500);
    expect(fleet.nodesWithin(town, 50).length).toBeLessThan(nearNyc / 10);
    for (let i = 0; i < 500; i++) expect(haversineKm(fleet.position(i), fleet.cities[fleet.home[i]!]!)).toBeLessThan(70);
  });

  it('makes about one node in ten a controller', () => {
    const controllers = fleet.controller.reduce((a, b) => a + b, 0);
    expect(controllers / fleet.size).toBeGreaterThan(0.08);
    expect(controllers / fleet.size).toBeLessThan(0.12);
  });

  it('is the same fleet for the same seed and a different one for another seed', () => {
    const again = new GridFleet({ count: 20_000, seed: 1 });
    const other = new GridFleet({ count: 20_000, seed: 2 });
    expect(again.setup(T0)).toEqual(fleet.setup(T0));
    expect(other.setup(T0)).not.toEqual(fleet.setup(T0));
    const a = new GridFleet({ count: 1_000, seed: 5 });
    const b = new GridFleet({ count: 1_000, seed: 5 });
    const stream = (f: GridFleet) => Array.from({ length: 5_000 }, (_, k) => f.next(T0 + k));
    expect(stream(a)).toEqual(stream(b));
  });

  it('reports mostly normal, with some incidents, cycling through every node', () => {
    const f = new GridFleet({ count: 2_000, seed: 3 });
    const seen = new Set<string>();
    const conditions = new Map<string, number>();
    for (let k = 0; k < 40_000; k++) {
      const m = f.next(T0 + k)!;
      seen.add(m.id);
      const c = (m.message as { condition: string }).condition;
      conditions.set(c, (conditions.get(c) ?? 0) + 1);
    }
    expect(seen.size).toBe(2_000);
    expect(conditions.get('normal')! / 40_000).toBeGreaterThan(0.99);
    expect(conditions.get('minor') ?? 0).toBeGreaterThan(0);
  });

  it('keeps a silenced node quiet until its silence ends, then it reports normal', () => {
    const f = new GridFleet({ count: 3, seed: 1 });
    f.silence(1, T0 + 1_000);
    const ids = [f.next(T0)!, f.next(T0)!, f.next(T0)!].map((m) => m.id);
    expect(ids).toEqual([f.id(0), f.id(2), f.id(0)]);
    expect(f.next(T0 + 1_000)).toEqual(f.status(1, 'normal', T0 + 1_000));
    const all = new GridFleet({ count: 2, seed: 1 });
    all.silence(0, T0 + 10);
    all.silence(1, T0 + 10);
    expect(all.next(T0)).toBeUndefined();
  });
});
