/** Which H3 resolution to aggregate at for a map zoom, so hexagons stay a readable size on screen. */

/** Average H3 hexagon edge length in km, by resolution 0..15 (from the H3 documentation's table). */
const EDGE_KM = [1281.256, 483.057, 182.513, 68.979, 26.072, 9.854, 3.725, 1.406, 0.531, 0.201, 0.076, 0.029, 0.011, 0.004, 0.0015, 0.0006];

export const MIN_RESOLUTION = 0;
export const MAX_RESOLUTION = 10;

/** Hexagons this many CSS pixels across read well: big enough to hover, small enough to show shape. */
const TARGET_PX = 28;

/**
 * The resolution whose hexagons come closest to TARGET_PX across at this zoom and latitude
 * (Web Mercator: 256 px tiles; ground km per pixel shrinks with cos(latitude)).
 */
export function resolutionForZoom(zoom: number, latitude = 0): number {
  const kmPerPx = (40_075 * Math.cos((Math.min(85, Math.abs(latitude)) * Math.PI) / 180)) / (256 * 2 ** zoom);
  let best = MIN_RESOLUTION;
  let bestMiss = Number.POSITIVE_INFINITY;
  for (let r = MIN_RESOLUTION; r <= MAX_RESOLUTION; r++) {
    const px = (2 * (EDGE_KM[r] ?? 0)) / kmPerPx;
    const miss = Math.abs(Math.log(px / TARGET_PX));
    if (miss < bestMiss) {
      bestMiss = miss;
      best = r;
    }
  }
  return best;
}
