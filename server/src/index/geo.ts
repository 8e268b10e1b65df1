/**
 * Geometry for the filter language and hexagon roll-ups: bounding boxes (antimeridian-aware) and
 * H3 cells packed into plain numbers (great-circle distance is `haversineKmBetween` in `@hextwin/shared`).
 *
 * An H3 cell at resolution r is fully described by its base cell (7 bits) and r digits (3 bits
 * each): at most 52 bits, which a double holds exactly. Packing cells that way lets a million
 * twins be grouped with number-keyed maps and cached in Float64Arrays.
 */
import { getResolution, isValidCell, latLngToCell } from 'h3-js';

export const MAX_RESOLUTION = 15;

/** Inclusive box; `west > east` crosses the antimeridian. */
export interface BBox {
  west: number;
  south: number;
  east: number;
  north: number;
}

export function inBBox(b: BBox, lat: number, lng: number): boolean {
  if (lat < b.south || lat > b.north) return false;
  return b.west <= b.east ? lng >= b.west && lng <= b.east : lng >= b.west || lng <= b.east;
}

const SHIFT: number[] = Array.from({ length: MAX_RESOLUTION + 1 }, (_, r) => 2 ** (45 - 3 * r));

/** The packed number of an H3 cell string of resolution r. */
export function packCell(cell: string, r: number): number {
  // the low 52 bits are the last 13 hex digits: base cell and digits, unused digits set to 7
  return Math.floor(parseInt(cell.slice(-13), 16) / SHIFT[r]!);
}

/** The H3 cell string of a packed number at resolution r. */
export function unpackCell(key: number, r: number): string {
  const low52 = key * SHIFT[r]! + (SHIFT[r]! - 1);
  // high 12 bits: reserved 0, mode 1 (cell), reserved 000, resolution r
  return '8' + r.toString(16) + low52.toString(16).padStart(13, '0');
}

/** The packed cell holding (lat, lng) at resolution r. */
export function cellKeyAt(lat: number, lng: number, r: number): number {
  return packCell(latLngToCell(lat, lng, r), r);
}

/** A cell given in a filter: its resolution and packed number; undefined when not a valid H3 cell. */
export function parseCell(cell: string): { res: number; key: number } | undefined {
  if (typeof cell !== 'string' || !isValidCell(cell)) return undefined;
  const res = getResolution(cell);
  return { res, key: packCell(cell.toLowerCase(), res) };
}
