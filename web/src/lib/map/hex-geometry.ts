/** H3 cells as GeoJSON polygons, cached: a cell's outline never changes, and the layer redraws every second. */
import { cellToBoundary } from 'h3-js';
import type { Polygon } from 'geojson';

const cache = new Map<string, Polygon>();
const MAX_CACHED = 200_000;

export function cellPolygon(cell: string): Polygon {
  let p = cache.get(cell);
  if (!p) {
    const ring = cellToBoundary(cell, true);
    // a cell across the antimeridian comes back with longitudes on both sides: keep it in one piece
    let minLng = Infinity;
    let maxLng = -Infinity;
    for (const [lng] of ring) {
      if (lng! < minLng) minLng = lng!;
      if (lng! > maxLng) maxLng = lng!;
    }
    const fixed = maxLng - minLng > 180 ? ring.map(([lng, lat]) => [lng! < 0 ? lng! + 360 : lng!, lat!]) : ring;
    p = { type: 'Polygon', coordinates: [fixed] };
    if (cache.size >= MAX_CACHED) cache.clear();
    cache.set(cell, p);
  }
  return p;
}
