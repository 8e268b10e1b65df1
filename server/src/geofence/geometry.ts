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
  let inside = false;
  for (const ring of rings) {
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const [xi, yi] = ring[i]!;
      const [xj, yj] = ring[j]!;
      if (yi > lat !== yj > lat && lng < ((xj - xi) * (lat - yi)) / (yj - yi) + xi) inside = !inside;
    }
  }
  return inside || onEdge(rings, lng, lat);
}

const EPS = 1e-12;

function onEdge(rings: PolygonRings, x: number, y: number): boolean {
  for (const ring of rings)
    for (let i = 1; i < ring.length; i++) {
      const [x1, y1] = ring[i - 1]!;
      const [x2, y2] = ring[i]!;
      if (x < Math.min(x1, x2) - EPS || x > Math.max(x1, x2) + EPS || y < Math.min(y1, y2) - EPS || y > Math.max(y1, y2) + EPS) continue;
      if (Math.abs((x2 - x1) * (y - y1) - (y2 - y1) * (x - x1)) <= EPS * Math.max(1, Math.abs(x2 - x1) + Math.abs(y2 - y1))) return true;
    }
  return false;
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
