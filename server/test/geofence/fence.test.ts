import { describe, expect, it } from 'vitest';
import { isHextwinError } from '@hextwin/shared';
import { compileFence, parseGeofence, parseShape } from '../../src/geofence/fence.js';
import { parseFenceDocument } from '../../src/geofence/fence-file.js';

const square = (w: number, s: number, e: number, n: number) => ({
  type: 'Polygon',
  coordinates: [
    [
      [w, s],
      [e, s],
      [e, n],
      [w, n],
      [w, s],
    ],
  ],
});

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (e) {
    return isHextwinError(e) ? `${e.code}: ${e.message}` : String(e);
  }
  return undefined;
};

describe('Validation', () => {
  it('accepts a Polygon, a MultiPolygon, a Feature and a circle', () => {
    expect(parseShape(square(0, 0, 1, 1))).toMatchObject({ type: 'Polygon' });
    expect(parseShape({ type: 'MultiPolygon', coordinates: [square(0, 0, 1, 1).coordinates] })).toMatchObject({ type: 'MultiPolygon' });
    expect(parseShape({ type: 'Feature', properties: {}, geometry: square(0, 0, 1, 1) })).toMatchObject({ type: 'Polygon' });
    expect(parseShape({ center: [13.4, 52.5], radiusM: 500 })).toEqual({ center: [13.4, 52.5], radiusM: 500 });
  });

  it('closes a ring drawn without repeating its first position', () => {
    const s = parseShape({ type: 'Polygon', coordinates: [[[0, 0], [1, 0], [1, 1]]] });
    expect('coordinates' in s && s.coordinates[0]).toEqual([[0, 0], [1, 0], [1, 1], [0, 0]]);
  });

  it('refuses bad input with GEOFENCE_INVALID naming the field', () => {
    expect(codeOf(() => parseGeofence({ name: 'a', shape: { type: 'Point', coordinates: [0, 0] } }))).toMatch(/^GEOFENCE_INVALID: geofence "a".shape.type/);
    expect(codeOf(() => parseGeofence({ name: 'a', shape: { type: 'Polygon', coordinates: [[[0, 0], [1, 0], [0, 0]]] } }))).toMatch(
      /GEOFENCE_INVALID: .*coordinates\[0\]: a ring needs at least 3/,
    );
    expect(codeOf(() => parseGeofence({ name: 'a', shape: { type: 'Polygon', coordinates: [[[0, 0], [1, 95], [1, 1], [0, 0]]] } }))).toMatch(
      /coordinates\[0\]\[1\]: latitude 95/,
    );
    expect(codeOf(() => parseGeofence({ name: 'a', shape: { center: [0, 0], radiusM: -1 } }))).toMatch(/shape.radiusM/);
    expect(codeOf(() => parseGeofence({ name: '', shape: square(0, 0, 1, 1) }))).toMatch(/GEOFENCE_INVALID: geofence.name/);
    expect(codeOf(() => parseGeofence({ name: 'a', shape: square(0, 0, 1, 1), dwellMs: 0.5 }))).toMatch(/dwellMs/);
    expect(codeOf(() => parseGeofence({ name: 'a', shape: square(0, 0, 1, 1), alarm: { severity: 'LOUD' } }))).toMatch(/alarm.severity/);
  });

  it('gives an alarm without a type the type geofence:{name}', () => {
    expect(parseGeofence({ name: 'depot', shape: square(0, 0, 1, 1), alarm: { severity: 'WARNING' } }).alarm).toEqual({ severity: 'WARNING', type: 'geofence:depot' });
  });

  it('reads a GeoJSON FeatureCollection, a Point with radiusM being a circle, and refuses a name twice', () => {
    const fc = {
      type: 'FeatureCollection',
      features: [
        { type: 'Feature', properties: { name: 'yard', model: 'truck', dwellMs: 1000 }, geometry: square(0, 0, 1, 1) },
        { type: 'Feature', properties: { name: 'hub', radiusM: 200 }, geometry: { type: 'Point', coordinates: [5, 5] } },
      ],
    };
    const specs = parseFenceDocument(fc, 'f.json');
    expect(specs.map((s) => [s.name, s.model, s.dwellMs])).toEqual([
      ['yard', 'truck', 1000],
      ['hub', null, null],
    ]);
    expect(specs[1]!.shape).toEqual({ center: [5, 5], radiusM: 200 });
    expect(codeOf(() => parseFenceDocument([specs[0], specs[0]], 'f.json'))).toMatch(/f.json entry 1: a second fence named "yard"/);
  });
});

describe('Exact test', () => {
  it('a polygon contains its inside, not its hole nor its outside', () => {
    const withHole = {
      type: 'Polygon',
      coordinates: [square(0, 0, 10, 10).coordinates[0], square(4, 4, 6, 6).coordinates[0]],
    };
    const f = compileFence(parseGeofence({ name: 'ring', shape: withHole }), 'api', 0);
    expect(f.contains(1, 1)).toBe(true);
    expect(f.contains(5, 5)).toBe(false);
    expect(f.contains(11, 5)).toBe(false);
    expect(f.bbox).toEqual([0, 0, 10, 10]);
  });

  it('a circle contains points within its radius along the great circle', () => {
    const f = compileFence(parseGeofence({ name: 'c', shape: { center: [13.4, 52.5], radiusM: 1000 } }), 'api', 0);
    // 0.0089° of latitude is about 990 m; 0.0091° about 1,012 m
    expect(f.contains(52.5089, 13.4)).toBe(true);
    expect(f.contains(52.5091, 13.4)).toBe(false);
    // at 52.5° a degree of longitude is ~0.61 of one of latitude
    expect(f.contains(52.5, 13.4 + 0.0089 / 0.61)).toBe(true);
    expect(f.contains(52.5, 13.4 + 0.0093 / 0.61)).toBe(false);
  });
});
