import { describe, expect, it } from 'vitest';
import { latLngToCell } from 'h3-js';
import { cellCover } from '../../src/index/dispatch.js';
import { cellKeyAt } from '../../src/index/geo.js';
import { rng } from './helpers.js';

describe('cell covers of location filters', () => {
  it('holds the cell of every point inside a bbox, at any box size', () => {
    const rand = rng(7);
    for (const [west, south, east, north] of [
      [2.2, 48.8, 2.5, 48.9],
      [-10, 35, 20, 55],
      [-170, -60, 170, 60],
    ] as const) {
      const cover = cellCover({ within: { bbox: [west, south, east, north] } })!;
      expect(cover).toBeDefined();
      for (let i = 0; i < 2_000; i++) {
        const lat = south + rand() * (north - south);
        const lng = west + rand() * (east - west);
        expect(cover.keys.has(cellKeyAt(lat, lng, cover.res))).toBe(true);
      }
    }
  });
  it('holds the cell of every point near a centre', () => {
    const rand = rng(11);
    const cover = cellCover({ within: { near: { lat: 60, lng: 10, km: 50 } } })!;
    for (let i = 0; i < 2_000; i++) {
      // points within 50 km: up to 0.45 degrees of latitude, 0.9 of longitude at 60 degrees north
      const lat = 60 + (rand() - 0.5) * 0.85;
      const lng = 10 + (rand() - 0.5) * 1.7;
      expect(cover.keys.has(cellKeyAt(lat, lng, cover.res))).toBe(true);
    }
  });
  it('takes cells of mixed resolution up to the coarsest, and only from ANDed conditions', () => {
    const fine = latLngToCell(48.85, 2.35, 9);
    const coarse = latLngToCell(-17.7, 178.1, 4);
    const cover = cellCover({ and: [{ field: 'v', op: 'GT', value: 1 }, { within: { cells: [fine, coarse] } }] })!;
    expect(cover.res).toBe(4);
    expect(cover.keys.has(cellKeyAt(48.85, 2.35, 4))).toBe(true);
    expect(cover.keys.has(cellKeyAt(-17.7, 178.1, 4))).toBe(true);
    expect(cellCover({ or: [{ within: { cells: [fine] } }, { field: 'v', op: 'EQ', value: 1 }] })).toBeUndefined();
    expect(cellCover({ not: { within: { cells: [fine] } } })).toBeUndefined();
    expect(cellCover({ within: { bbox: [170, -20, -170, -10] } })).toBeUndefined();
  });
});
