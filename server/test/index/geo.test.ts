import { describe, expect, it } from 'vitest';
import { cellToParent, getResolution, latLngToCell } from 'h3-js';
import { compileFilter } from '../../src/index/filter.js';
import { packCell, unpackCell } from '../../src/index/geo.js';
import { rng, Twins } from './helpers.js';

describe('bbox', () => {
  const w = new Twins();
  w.put('paris', {}, { lat: 48.85, lng: 2.35 });
  w.put('edge', {}, { lat: 50, lng: 10 });
  w.put('fiji', {}, { lat: -17.7, lng: 178.1 });
  w.put('samoa', {}, { lat: -13.8, lng: -171.8 });
  w.put('nowhere', {});
  const within = (bbox: number[]) => w.ids(compileFilter({ within: { bbox } }, w.index));

  it('matches twins inside, edges inclusive', () => {
    expect(within([0, 40, 10, 50])).toEqual(['edge', 'paris']);
    expect(within([2.35, 48.85, 2.35, 48.85])).toEqual(['paris']);
  });
  it('crosses the antimeridian when west > east', () => {
    expect(within([170, -20, -170, -10])).toEqual(['fiji', 'samoa']);
    expect(within([179, -20, -170, -10])).toEqual(['samoa']);
  });
  it('never matches a twin without location, even negated it is the only one left', () => {
    expect(within([-180, -90, 180, 90])).toEqual(['edge', 'fiji', 'paris', 'samoa']);
    expect(w.ids(compileFilter({ not: { within: { bbox: [-180, -90, 180, 90] } } }, w.index))).toEqual(['nowhere']);
  });
});

describe('near', () => {
  const w = new Twins();
  w.put('paris', {}, { lat: 48.8566, lng: 2.3522 });
  w.put('versailles', {}, { lat: 48.8049, lng: 2.1204 });
  w.put('london', {}, { lat: 51.5074, lng: -0.1278 });
  it('matches twins within km by great-circle distance', () => {
    expect(w.ids(compileFilter({ within: { near: { lat: 48.8566, lng: 2.3522, km: 20 } } }, w.index))).toEqual(['paris', 'versailles']);
    expect(w.ids(compileFilter({ within: { near: { lat: 48.8566, lng: 2.3522, km: 350 } } }, w.index))).toEqual(['london', 'paris', 'versailles']);
    expect(w.ids(compileFilter({ within: { near: { lat: 48.8566, lng: 2.3522, km: 340 } } }, w.index))).toEqual(['paris', 'versailles']);
  });
  it('ANDs bbox and near given together', () => {
    expect(w.ids(compileFilter({ within: { near: { lat: 48.8566, lng: 2.3522, km: 400 }, bbox: [-1, 50, 1, 52] } }, w.index))).toEqual(['london']);
  });
});

describe('H3 cells', () => {
  it('packs and unpacks cells of every resolution', () => {
    for (let r = 0; r <= 15; r++) {
      const c = latLngToCell(37.77, -122.41, r);
      expect(unpackCell(packCell(c, r), r)).toBe(c);
    }
  });

  it('matches exactly latLngToCell at the cell resolution, for cells of mixed resolution', () => {
    const w = new Twins();
    const rand = rng(7);
    const points: { id: string; lat: number; lng: number }[] = [];
    for (let i = 0; i < 400; i++) {
      const p = { id: 't' + i, lat: 30 + rand() * 10, lng: -100 + rand() * 10 };
      points.push(p);
      w.put(p.id, {}, p);
    }
    const a = points[0]!;
    const b = points[1]!;
    const cells = [latLngToCell(a.lat, a.lng, 3), latLngToCell(b.lat, b.lng, 7)];
    const expected = points
      .filter((p) => latLngToCell(p.lat, p.lng, 3) === cells[0] || latLngToCell(p.lat, p.lng, 7) === cells[1])
      .map((p) => p.id)
      .sort();
    expect(expected.length).toBeGreaterThan(1);
    expect(w.ids(compileFilter({ within: { cells } }, w.index))).toEqual(expected);
  });

  it('uses the cell at that resolution, not the parent of a finer cell', () => {
    // find a point whose res-5 cell differs from the parent of its res-9 cell (H3 is not perfectly nested)
    const rand = rng(3);
    let p: { lat: number; lng: number } | undefined;
    for (let i = 0; i < 100_000 && !p; i++) {
      const q = { lat: 30 + rand() * 10, lng: -100 + rand() * 10 };
      if (cellToParent(latLngToCell(q.lat, q.lng, 9), 5) !== latLngToCell(q.lat, q.lng, 5)) p = q;
    }
    expect(p).toBeDefined();
    const w = new Twins();
    w.put('x', {}, p!);
    const fine = latLngToCell(p!.lat, p!.lng, 9);
    // the twin's res-9 cell is cached first, then a res-5 query comes
    expect(w.ids(compileFilter({ within: { cells: [fine] } }, w.index))).toEqual(['x']);
    expect(w.ids(compileFilter({ within: { cells: [latLngToCell(p!.lat, p!.lng, 5)] } }, w.index))).toEqual(['x']);
    expect(w.ids(compileFilter({ within: { cells: [cellToParent(fine, 5)] } }, w.index))).toEqual([]);
  });

  it('recomputes cached cells when a twin moves', () => {
    const w = new Twins();
    w.put('x', {}, { lat: 10, lng: 10 });
    const here = latLngToCell(10, 10, 6);
    expect(w.ids(compileFilter({ within: { cells: [here] } }, w.index))).toEqual(['x']);
    w.put('x', {}, { lat: 20, lng: 20 });
    expect(w.ids(compileFilter({ within: { cells: [here] } }, w.index))).toEqual([]);
    expect(w.ids(compileFilter({ within: { cells: [latLngToCell(20, 20, 6)] } }, w.index))).toEqual(['x']);
    w.put('x', {});
    expect(w.ids(compileFilter({ within: { cells: [latLngToCell(20, 20, 6)] } }, w.index))).toEqual([]);
    expect(getResolution(here)).toBe(6);
  });
});
