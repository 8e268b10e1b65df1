/** Distance on the Earth from a point to a polyline, for the sample models (great-circle distance is in `@hextwin/shared`). */
import { EARTH_RADIUS_KM, haversineKm, type LatLng } from '@hextwin/shared';

const RAD = Math.PI / 180;

/**
 * Shortest distance in km from `p` to a polyline (its segments, not only its vertices).
 * Each segment is projected onto a plane tangent at `p` (equirectangular), which is accurate to well
 * under 1% at the few-km distances a route corridor is judged by.
 */
export function distanceToPolylineKm(p: LatLng, line: readonly LatLng[]): number {
  if (line.length === 0) return Infinity;
  if (line.length === 1) return haversineKm(p, line[0]!);
  const kx = Math.cos(p.lat * RAD) * EARTH_RADIUS_KM * RAD;
  const ky = EARTH_RADIUS_KM * RAD;
  const xy = (q: LatLng) => ({ x: (q.lng - p.lng) * kx, y: (q.lat - p.lat) * ky });
  let best = Infinity;
  for (let i = 1; i < line.length; i++) {
    const a = xy(line[i - 1]!);
    const b = xy(line[i]!);
    const dx = b.x - a.x;
    const dy = b.y - a.y;
    const len2 = dx * dx + dy * dy;
    // the segment's closest point to the origin (where p is), clamped to the segment
    const u = len2 === 0 ? 0 : Math.max(0, Math.min(1, -(a.x * dx + a.y * dy) / len2));
    best = Math.min(best, Math.hypot(a.x + u * dx, a.y + u * dy));
  }
  return best;
}
