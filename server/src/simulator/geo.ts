/** Small geographic helpers for placing and moving simulated devices (distances: `haversineKm` in `@hextwin/shared`). */
import type { LatLng } from '@hextwin/shared';

/** The continental United States (the lower 48 and DC), as [west, south, east, north] degrees. */
export const CONTINENTAL_US_BBOX = [-124.85, 24.39, -66.88, 49.39] as const;

export function insideContinentalUs(p: LatLng): boolean {
  const [west, south, east, north] = CONTINENTAL_US_BBOX;
  return p.lng >= west && p.lng <= east && p.lat >= south && p.lat <= north;
}

/** Keeps a point inside the continental bounding box (jitter must not push a coastal node out to sea). */
export function clampToContinentalUs(p: LatLng): LatLng {
  const [west, south, east, north] = CONTINENTAL_US_BBOX;
  return { lat: Math.min(north, Math.max(south, p.lat)), lng: Math.min(east, Math.max(west, p.lng)) };
}

const RAD = Math.PI / 180;

/** The point `northKm` north and `eastKm` east of `p` (flat approximation, fine for tens of km). */
export function offsetKm(p: LatLng, northKm: number, eastKm: number): LatLng {
  const lat = p.lat + northKm / 111.32;
  const lng = p.lng + eastKm / (111.32 * Math.cos(p.lat * RAD));
  return { lat, lng };
}

/** The point a fraction `f` of the way from `a` to `b` (linear in degrees: routes are a few hundred km). */
export function interpolate(a: LatLng, b: LatLng, f: number): LatLng {
  return { lat: a.lat + (b.lat - a.lat) * f, lng: a.lng + (b.lng - a.lng) * f };
}

/** Rounds to 5 decimals (about 1 m), the precision a GPS fix reports. */
export function round5(x: number): number {
  return Math.round(x * 1e5) / 1e5;
}
