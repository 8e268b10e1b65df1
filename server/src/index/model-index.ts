/**
 * The index of one model's twins: dense slots (so per-twin data lives in typed arrays), each
 * twin's location, its H3 cell at every resolution in use (computed once per location change, on
 * first need), the field catalog, and the live queries that follow the model's changes.
 */
import type { TwinView } from '../engine/types.js';
import type { LevelFn } from './level.js';
import { FieldCatalog } from './field-catalog.js';
import { cellKeyAt, MAX_RESOLUTION } from './geo.js';

/** Told about every change of the model's twins, synchronously, on the ingest path: keep it cheap. */
export interface SlotListener {
  /** the twin in `slot` was created or its state changed */
  changed(slot: number, twin: TwinView): void;
  /** the twin in `slot` was removed; the slot may be reused right after this call */
  removed(slot: number, last: TwinView): void;
}

interface CellColumn {
  keys: Float64Array;
  lastUsed: number;
  pins: number;
}

/** A cell column not used for this long (and not pinned by a live query) is dropped. */
const COLUMN_IDLE_MS = 10 * 60_000;
const SAMPLE_MASK = 7;

export class ModelIndex {
  private readonly slotOf = new Map<string, number>();
  /** the twin in each slot; undefined for free slots */
  views: (TwinView | undefined)[] = [];
  lat: Float64Array;
  lng: Float64Array;
  private free: number[] = [];
  private cap: number;
  /** one past the highest slot ever used: scans run over 0..end */
  end = 0;
  private readonly cells = new Map<number, CellColumn>();
  readonly catalog = new FieldCatalog();
  /** the model's `level(state)`, for `Twin.level` and `$level` in filters */
  level: LevelFn | undefined = undefined;
  private readonly listeners = new Set<SlotListener>();

  constructor(
    readonly model: string,
    initialCapacity = 1024,
  ) {
    this.cap = initialCapacity;
    this.lat = new Float64Array(this.cap).fill(NaN);
    this.lng = new Float64Array(this.cap).fill(NaN);
  }

  get size(): number {
    return this.slotOf.size;
  }

  /** The capacity of per-slot arrays; listeners size their own arrays by it. */
  get capacity(): number {
    return this.cap;
  }

  slot(id: string): number | undefined {
    return this.slotOf.get(id);
  }

  /** Index a created or changed twin and tell the live queries. */
  upsert(twin: TwinView): void {
    // the engine's twin carries our slot, which spares a second lookup among a million ids
    const carrier = twin as TwinView & { indexSlot?: number };
    let s: number | undefined = carrier.indexSlot;
    if (s === undefined || s < 0 || this.views[s] !== twin) s = this.slotOf.get(twin.id);
    if (s === undefined) {
      s = this.alloc();
      this.slotOf.set(twin.id, s);
      if (carrier.indexSlot !== undefined) carrier.indexSlot = s;
      this.views[s] = twin;
      this.lat[s] = twin.lat ?? NaN;
      this.lng[s] = twin.lng ?? NaN;
      this.invalidateCells(s);
      this.catalog.observe(twin.state);
    } else {
      this.views[s] = twin;
      if (carrier.indexSlot !== undefined && carrier.indexSlot !== s) carrier.indexSlot = s;
      const la = twin.lat ?? NaN;
      const ln = twin.lng ?? NaN;
      const oldLa = this.lat[s]!;
      const oldLn = this.lng[s]!;
      // NaN-aware comparison: an unlocated twin that stays unlocated has not moved
      if (!(la === oldLa || (la !== la && oldLa !== oldLa)) || !(ln === oldLn || (ln !== ln && oldLn !== oldLn))) {
        this.lat[s] = la;
        this.lng[s] = ln;
        this.invalidateCells(s);
      }
      if ((twin.version & SAMPLE_MASK) === 0) this.catalog.observe(twin.state);
    }
    for (const l of this.listeners) l.changed(s, twin);
  }

  remove(id: string, last: TwinView): void {
    const s = this.slotOf.get(id);
    if (s === undefined) return;
    this.slotOf.delete(id);
    const carrier = last as TwinView & { indexSlot?: number };
    if (carrier.indexSlot === s) carrier.indexSlot = -1;
    this.views[s] = undefined;
    this.lat[s] = NaN;
    this.lng[s] = NaN;
    this.invalidateCells(s);
    for (const l of this.listeners) l.removed(s, last);
    this.free.push(s);
  }

  addListener(l: SlotListener): () => void {
    this.listeners.add(l);
    return () => void this.listeners.delete(l);
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  private alloc(): number {
    const reused = this.free.pop();
    if (reused !== undefined) return reused;
    if (this.end === this.cap) this.grow();
    return this.end++;
  }

  private grow(): void {
    const cap = this.cap * 2;
    const grow = (a: Float64Array): Float64Array => {
      const b = new Float64Array(cap).fill(NaN);
      b.set(a);
      return b;
    };
    this.lat = grow(this.lat);
    this.lng = grow(this.lng);
    for (const c of this.cells.values()) c.keys = grow(c.keys);
    this.cap = cap;
  }

  private invalidateCells(s: number): void {
    for (const c of this.cells.values()) c.keys[s] = NaN;
  }

  /**
   * The column of packed cells at resolution r, for scans: `keys[s]` is NaN when not computed yet
   * (or the twin is not located); `cellKey` fills it.
   */
  cellColumn(r: number): Float64Array {
    let c = this.cells.get(r);
    const now = Date.now();
    if (!c) {
      this.dropIdleColumns(now);
      c = { keys: new Float64Array(this.cap).fill(NaN), lastUsed: now, pins: 0 };
      this.cells.set(r, c);
    }
    c.lastUsed = now;
    return c.keys;
  }

  /** The packed H3 cell of the twin in slot s at resolution r; NaN when the twin has no location. */
  cellKey(s: number, r: number, column: Float64Array = this.cellColumn(r)): number {
    const k = column[s]!;
    if (k === k) return k;
    const la = this.lat[s]!;
    if (la !== la) return NaN;
    const key = cellKeyAt(la, this.lng[s]!, r);
    column[s] = key;
    return key;
  }

  /** Keep the column of resolution r while a live query uses it. */
  pinResolution(r: number): () => void {
    this.cellColumn(r);
    const c = this.cells.get(r)!;
    c.pins++;
    return () => {
      c.pins--;
    };
  }

  private dropIdleColumns(now: number): void {
    for (const [r, c] of this.cells) if (c.pins === 0 && now - c.lastUsed > COLUMN_IDLE_MS) this.cells.delete(r);
  }

  /** Resolutions with a cached column (for tests and metrics). */
  cachedResolutions(): number[] {
    return [...this.cells.keys()].filter((r) => r >= 0 && r <= MAX_RESOLUTION).sort((a, b) => a - b);
  }
}
