/**
 * The cells a location-filtered live query can be concerned by, so changes are dispatched to it
 * by cell instead of calling it for every change of the model (model-index.ts). A filter has a
 * cover when a `within` is one of its ANDed conditions (top level or inside `and`): every twin
 * the filter matches is then in one of the cover's cells.
 *
 * - `cells`: the cells themselves, taken up to the coarsest resolution among them (a point's
 *   cell at a coarser resolution is the parent of its finer cell);
 * - `bbox` (and `near`, through the box around its circle): the cells overlapping the box at the
 *   finest resolution that keeps the cover under MAX_COVER cells, plus their neighbours as a
 *   margin for the gap between planar boxes and geodesic cell edges.
 *
 * Anything else (no `within`, `within` under `or` or `not`, a box across the antimeridian or a
 * pole) has no cover and listens to the whole model.
 */
import { cellToParent, getHexagonAreaAvg, gridDisk, polygonToCellsExperimental, POLYGON_TO_CELLS_FLAGS } from 'h3-js';
import type { TwinFilter, GeoFilter } from './filter.js';
import { packCell, parseCell } from './geo.js';
import type { CellCover } from './model-index.js';

const MAX_COVER = 2_000;
/** the finest resolution used for box covers: finer cells make covers big for little gain */
const MAX_BOX_RES = 9;
const KM_PER_DEG = 111.32;

/** The cover of a filter, or undefined when the query must see every change of the model. */
export function cellCover(filter: TwinFilter | null | undefined): CellCover | undefined {
  const withins: GeoFilter[] = [];
  collect(filter, withins, 0);
  let best: CellCover | undefined;
  for (const w of withins) {
    const c = coverOfWithin(w);
    if (c && (!best || c.keys.size < best.keys.size)) best = c;
  }
  return best;
}

function collect(f: TwinFilter | null | undefined, out: GeoFilter[], depth: number): void {
  if (!f || typeof f !== 'object' || depth > 32) return;
  if (f.within) out.push(f.within);
  if (Array.isArray(f.and)) for (const sub of f.and) collect(sub, out, depth + 1);
}

function coverOfWithin(g: GeoFilter): CellCover | undefined {
  const covers: CellCover[] = [];
  if (Array.isArray(g.cells) && g.cells.length) {
    const c = coverOfCells(g.cells);
    if (c) covers.push(c);
  }
  if (Array.isArray(g.bbox) && g.bbox.length === 4) {
    const [west, south, east, north] = g.bbox as number[];
    const c = coverOfBox(west!, south!, east!, north!);
    if (c) covers.push(c);
  }
  if (g.near) {
    const { lat, lng, km } = g.near;
    const dLat = km / KM_PER_DEG;
    const cos = Math.cos((Math.min(89, Math.abs(lat) + dLat) * Math.PI) / 180);
    const dLng = km / (KM_PER_DEG * cos);
    const c = coverOfBox(lng - dLng, lat - dLat, lng + dLng, lat + dLat);
    if (c) covers.push(c);
  }
  // conditions of one `within` are ANDed: the smallest cover will do
  return covers.sort((a, b) => a.keys.size - b.keys.size)[0];
}

function coverOfCells(cells: readonly string[]): CellCover | undefined {
  const parsed = cells.map(parseCell);
  if (parsed.some((p) => !p)) return undefined;
  const res = Math.min(...parsed.map((p) => p!.res));
  const keys = new Set<number>();
  for (const c of cells) keys.add(packCell(cellToParent(c.toLowerCase(), res), res));
  return { res, keys };
}

function coverOfBox(west: number, south: number, east: number, north: number): CellCover | undefined {
  const finite = [west, south, east, north].every((v) => typeof v === 'number' && Number.isFinite(v));
  if (!finite || west > east || south > north || west < -180 || east > 180 || south < -85 || north > 85) return undefined;
  const midLat = ((south + north) / 2) * (Math.PI / 180);
  const areaKm2 = Math.max(1e-6, (north - south) * KM_PER_DEG * ((east - west) * KM_PER_DEG * Math.cos(midLat)));
  for (let res = MAX_BOX_RES; res >= 0; res--) {
    // the cover with its margin is about 7 times the cells overlapping the box, plus its rim
    if ((areaKm2 / getHexagonAreaAvg(res, 'km2') + 8) * 7 > MAX_COVER) continue;
    // H3 takes the shorter way between two vertices: cut wide boxes into strips under 180 degrees
    const strips = Math.ceil((east - west) / 90) || 1;
    const inside: string[] = [];
    for (let i = 0; i < strips; i++) {
      const w = west + ((east - west) * i) / strips;
      const e = west + ((east - west) * (i + 1)) / strips;
      const ring = [
        [south, w],
        [south, e],
        [north, e],
        [north, w],
        [south, w],
      ];
      try {
        inside.push(...polygonToCellsExperimental(ring, res, POLYGON_TO_CELLS_FLAGS.containmentOverlapping));
      } catch {
        return undefined;
      }
    }
    const keys = new Set<number>();
    for (const c of inside) for (const n of gridDisk(c, 1)) keys.add(packCell(n, res));
    if (keys.size === 0 || keys.size > MAX_COVER) return undefined;
    return { res, keys };
  }
  return undefined;
}
