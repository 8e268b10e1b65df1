/**
 * The index of one model's twins: dense slots (so per-twin data lives in typed arrays), each
 * twin's location, its H3 cell at every resolution in use (computed once per location change, on
 * first need), the field catalog, and the live queries that follow the model's changes.
 *
 * Live queries listen to the whole model, or (location-filtered ones) to a set of cells at one
 * resolution: a change is dispatched to the listeners of the cell the twin was in and the cell it
 * is in now, so it costs in proportion to the live queries it can concern.
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

/** The cells a listener cares about: packed cells (geo.ts) at one resolution. */
export interface CellCover {
  res: number;
  keys: ReadonlySet<number>;
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
  /** resolution → packed cell → listeners of that cell */
  private readonly cellListeners = new Map<number, Map<number, Set<SlotListener>>>();
  private readonly oldKeys: number[] = [];
  /** listener calls so far (hextwin_graphql_change_notifications_total) */
  notifications = 0;

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
    const dispatch = this.cellListeners.size > 0;
    if (dispatch) this.rememberCells(s);
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
    for (const l of this.listeners) {
      this.notifications++;
      l.changed(s, twin);
    }
    if (dispatch) {
      const slot = s;
      this.dispatchCells(s, true, (l) => l.changed(slot, twin));
    }
  }

  remove(id: string, last: TwinView): void {
    const s = this.slotOf.get(id);
    if (s === undefined) return;
    this.slotOf.delete(id);
    const carrier = last as TwinView & { indexSlot?: number };
    if (carrier.indexSlot === s) carrier.indexSlot = -1;
    const dispatch = this.cellListeners.size > 0;
    if (dispatch) this.rememberCells(s);
    this.views[s] = undefined;
    this.lat[s] = NaN;
    this.lng[s] = NaN;
    this.invalidateCells(s);
    for (const l of this.listeners) {
      this.notifications++;
      l.removed(s, last);
    }
    if (dispatch) this.dispatchCells(s, false, (l) => l.removed(s, last));
    this.free.push(s);
  }

  /** Listen to every change of the model, or only to changes in or out of the cells of `cover`. */
  addListener(l: SlotListener, cover?: CellCover): () => void {
    if (!cover) {
      this.listeners.add(l);
      return () => void this.listeners.delete(l);
    }
    const unpin = this.pinResolution(cover.res);
    let byKey = this.cellListeners.get(cover.res);
    if (!byKey) this.cellListeners.set(cover.res, (byKey = new Map()));
    for (const k of cover.keys) {
      let set = byKey.get(k);
      if (!set) byKey.set(k, (set = new Set()));
      set.add(l);
    }
    const m = byKey;
    return () => {
      for (const k of cover.keys) {
        const set = m.get(k);
        if (!set) continue;
        set.delete(l);
        if (set.size === 0) m.delete(k);
      }
      if (m.size === 0 && this.cellListeners.get(cover.res) === m) this.cellListeners.delete(cover.res);
      unpin();
    };
  }

  get listenerCount(): number {
    let n = this.listeners.size;
    for (const byKey of this.cellListeners.values()) {
      const all = new Set<SlotListener>();
      for (const set of byKey.values()) for (const l of set) all.add(l);
      n += all.size;
    }
    return n;
  }

  /** Before a change: the cells (at each dispatch resolution) the twin in slot s is in. */
  private rememberCells(s: number | undefined): void {
    let i = 0;
    for (const r of this.cellListeners.keys()) this.oldKeys[i++] = s === undefined ? NaN : this.cellKey(s, r, this.cells.get(r)!.keys);
  }

  /** After a change: call the listeners of the cell the twin was in, and (when it moved) of the one it is in now. */
  private dispatchCells(s: number, present: boolean, call: (l: SlotListener) => void): void {
    let i = 0;
    for (const [r, byKey] of this.cellListeners) {
      const old = this.oldKeys[i++]!;
      const now = present ? this.cellKey(s, r, this.cells.get(r)!.keys) : NaN;
      const a = byKey.get(now);
      if (a)
        for (const l of a) {
          this.notifications++;
          call(l);
        }
      if (old === now) continue;
      const b = byKey.get(old);
      if (b)
        for (const l of b) {
          if (a?.has(l)) continue;
          this.notifications++;
          call(l);
        }
    }
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
