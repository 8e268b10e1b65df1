/**
 * A viewport bbox padded and snapped to a coarse grid, so small pans keep the same bbox (and the
 * same subscription) and only real moves re-target a viewport stream.
 */
export type Bbox = [west: number, south: number, east: number, north: number];

export function snapBbox([west, south, east, north]: Bbox): Bbox {
  const spanX = Math.max(1e-4, east - west);
  const spanY = Math.max(1e-4, north - south);
  // grid step: a quarter of the larger span rounded up to a power of two, in degrees
  const step = 2 ** Math.ceil(Math.log2(Math.max(spanX, spanY) / 4));
  const snap = (v: number, up: boolean): number => (up ? Math.ceil(v / step) : Math.floor(v / step)) * step;
  return [
    Math.max(-180, snap(west - spanX / 4, false)),
    Math.max(-90, snap(south - spanY / 4, false)),
    Math.min(180, snap(east + spanX / 4, true)),
    Math.min(90, snap(north + spanY / 4, true)),
  ];
}
