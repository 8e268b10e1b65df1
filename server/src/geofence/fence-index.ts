/**
 * The spatial index of fences: a grid per level (cells of 0.01°, 0.1°, 1° and 10°). Each fence
 * goes into the finest level at which its box covers at most MAX_CELLS cells, into every cell it
 * overlaps there; a fence too large even at 10° goes into a short list checked every time. A
 * point's candidates are then one cell per level (four Map lookups), whatever the number of
 * fences, and only those are tested exactly. Fences of one model and fences for every model live
 * in separate grids (`FenceIndex` per scope, chosen by the caller).
 */
import type { Fence } from './fence.js';

const LEVELS = [0.01, 0.1, 1, 10] as const;
const MAX_CELLS = 16;

interface Level {
  readonly size: number;
  readonly cols: number;
  readonly cells: Map<number, Fence[]>;
}

function span(size: number, lo: number, hi: number, offset: number, max: number): [number, number] {
  return [Math.max(0, Math.floor((lo + offset) / size)), Math.min(max, Math.floor((hi + offset) / size))];
}

export class FenceIndex {
  private readonly levels: Level[] = LEVELS.map((size) => ({ size, cols: Math.ceil(360 / size) + 1, cells: new Map() }));
  private readonly huge: Fence[] = [];
  /** where each fence was put, to take it out again */
  private readonly placed = new Map<string, { level: number; keys: number[] }>();

  get size(): number {
    return this.placed.size;
  }

  add(f: Fence): void {
    this.remove(f.name);
    const [w, s, e, n] = f.bbox;
    for (let li = 0; li < this.levels.length; li++) {
      const L = this.levels[li]!;
      const [x0, x1] = span(L.size, w, e, 180, L.cols - 1);
      const [y0, y1] = span(L.size, s, n, 90, Math.ceil(180 / L.size));
      if ((x1 - x0 + 1) * (y1 - y0 + 1) > MAX_CELLS) continue;
      const keys: number[] = [];
      for (let y = y0; y <= y1; y++)
        for (let x = x0; x <= x1; x++) {
          const k = y * L.cols + x;
          let list = L.cells.get(k);
          if (!list) L.cells.set(k, (list = []));
          list.push(f);
          keys.push(k);
        }
      this.placed.set(f.name, { level: li, keys });
      return;
    }
    this.huge.push(f);
    this.placed.set(f.name, { level: -1, keys: [] });
  }

  remove(name: string): boolean {
    const at = this.placed.get(name);
    if (!at) return false;
    this.placed.delete(name);
    if (at.level < 0) {
      this.huge.splice(
        this.huge.findIndex((f) => f.name === name),
        1,
      );
      return true;
    }
    const L = this.levels[at.level]!;
    for (const k of at.keys) {
      const list = L.cells.get(k)!;
      list.splice(
        list.findIndex((f) => f.name === name),
        1,
      );
      if (list.length === 0) L.cells.delete(k);
    }
    return true;
  }

  /** Call `fn` with every fence that contains the point (each once: a fence lives in one level). */
  containing(lat: number, lng: number, fn: (f: Fence) => void): void {
    if (this.placed.size === 0) return;
    for (const L of this.levels) {
      if (L.cells.size === 0) continue;
      const list = L.cells.get(Math.floor((lat + 90) / L.size) * L.cols + Math.floor((lng + 180) / L.size));
      if (list) for (const f of list) if (f.contains(lat, lng)) fn(f);
    }
    for (const f of this.huge) if (f.contains(lat, lng)) fn(f);
  }
}
