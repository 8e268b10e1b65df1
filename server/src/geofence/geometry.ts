/**
 * Exact geometry of a fence: point in polygon (even-odd over every ring, so holes work) and the
 * box around a circle (its distance is the shared haversine). Coordinates are GeoJSON order, [lng, lat] in degrees.
 */

export type Ring = readonly (readonly [number, number])[];
/** outer ring first, then holes (RFC 7946) */
export type PolygonRings = readonly Ring[];

/** [west, south, east, north] */
export type BBox = readonly [number, number, number, number];

import { EARTH_RADIUS_KM } from '@hextwin/shared';

const EARTH_RADIUS_M = EARTH_RADIUS_KM * 1000;
const RAD = Math.PI / 180;

/**
 * Crossings of a ray to the east of the point, over every ring: odd means inside. A point on an
 * edge is inside (edges are inclusive, as bbox filters are).
 */
export function inPolygon(rings: PolygonRings, lng: number, lat: number): boolean {
  return inFlatRings(flatRings(rings), lng, lat);
}

/** Each ring as one flat array of x, y pairs: what the hot path walks (no tuple per vertex). */
export function flatRings(rings: PolygonRings): Float64Array[] {
  return rings.map((ring) => {
    const a = new Float64Array(ring.length * 2);
    ring.forEach(([x, y], k) => {
      a[2 * k] = x;
      a[2 * k + 1] = y;
    });
    return a;
  });
}

const EPS = 1e-12;

/** `inPolygon` over flat rings: one pass does the crossings and the on-edge test. */
export function inFlatRings(rings: readonly Float64Array[], x: number, y: number): boolean {
  let inside = false;
  for (const r of rings) {
    const n = r.length;
    for (let i = 0, j = n - 2; i < n; j = i, i += 2) {
      const xi = r[i]!;
      const yi = r[i + 1]!;
      const xj = r[j]!;
      const yj = r[j + 1]!;
      if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
      // on the edge (j, i)? only when the point is within the edge's box
      if (x < (xi < xj ? xi : xj) - EPS || x > (xi > xj ? xi : xj) + EPS || y < (yi < yj ? yi : yj) - EPS || y > (yi > yj ? yi : yj) + EPS) continue;
      if (Math.abs((xi - xj) * (y - yj) - (yi - yj) * (x - xj)) <= EPS * Math.max(1, Math.abs(xi - xj) + Math.abs(yi - yj))) return true;
    }
  }
  return inside;
}

export function ringsBBox(polygons: readonly PolygonRings[]): BBox {
  let w = Infinity;
  let s = Infinity;
  let e = -Infinity;
  let n = -Infinity;
  for (const p of polygons)
    for (const [x, y] of p[0] ?? []) {
      if (x < w) w = x;
      if (x > e) e = x;
      if (y < s) s = y;
      if (y > n) n = y;
    }
  return [w, s, e, n];
}

/**
 * The box around a circle. Near a pole (or when the circle reaches across the antimeridian) it
 * is the whole band of longitudes, so lookups still find it.
 */
export function circleBBox(lng: number, lat: number, radiusM: number): BBox {
  const dLat = radiusM / EARTH_RADIUS_M / RAD;
  const s = Math.max(-90, lat - dLat);
  const n = Math.min(90, lat + dLat);
  const cos = Math.cos(Math.min(89.9, Math.abs(lat) + dLat) * RAD);
  const dLng = dLat / Math.max(cos, 1e-9);
  if (n >= 90 || s <= -90 || lng - dLng < -180 || lng + dLng > 180) return [-180, s, 180, n];
  return [lng - dLng, s, lng + dLng, n];
}

/** A circle as a closed ring of `steps` points (to draw it). */
export function circleRing(lng: number, lat: number, radiusM: number, steps = 64): [number, number][] {
  const d = radiusM / EARTH_RADIUS_M;
  const φ1 = lat * RAD;
  const λ1 = lng * RAD;
  const ring: [number, number][] = [];
  for (let k = 0; k <= steps; k++) {
    const θ = ((k % steps) / steps) * 2 * Math.PI;
    const φ2 = Math.asin(Math.sin(φ1) * Math.cos(d) + Math.cos(φ1) * Math.sin(d) * Math.cos(θ));
    const λ2 = λ1 + Math.atan2(Math.sin(θ) * Math.sin(d) * Math.cos(φ1), Math.cos(d) - Math.sin(φ1) * Math.sin(φ2));
    ring.push([((λ2 / RAD + 540) % 360) - 180, φ2 / RAD]);
  }
  return ring;
}
