/**
 * Twin history: the last `limit` states of each twin of a model that opts in with
 * `history: { limit, everyMs? }`, sampled after a successful 'update' batch at most every
 * `everyMs` (engine clock), reduced by `pick` when the model gives one, kept durably in the `history` table and bounded per twin.
 *
 * Cost: models without `history` pay one property check per batch. A sample costs a copy of the
 * state (JSON round trip), one durable put and, once full, one delete. Keys are
 * `model/id \u0001 seq`: twin ids hold no control characters, so a twin's entries share a prefix.
 * The table is read once at start (restore); queries answer from memory.
 */
import type { HistorySpec, JsonValue } from '@hextwin/shared';
import type { HistoryEntry } from './types.js';
import type { DurableTable } from '../store/store.js';

const SEP = '\u0001';
const SEQ_WIDTH = 10;

interface Ring {
  /** oldest first, with the sequence number of entries[0] */
  entries: HistoryEntry[];
  first: number;
  lastAt: number;
}

const prefixOf = (model: string, id: string) => model + '/' + id + SEP;
const keyOf = (prefix: string, seq: number) => prefix + seq.toString(36).padStart(SEQ_WIDTH, '0');

export class TwinHistory {
  private readonly rings = new Map<string, Ring>();

  constructor(private readonly table: DurableTable<HistoryEntry>) {}

  /** Load every twin's entries (once, at start). */
  restore(): void {
    for (const [key, e] of this.table.entries()) {
      const cut = key.lastIndexOf(SEP);
      const prefix = key.slice(0, cut + 1);
      let r = this.rings.get(prefix);
      if (!r) this.rings.set(prefix, (r = { entries: [], first: parseInt(key.slice(cut + 1), 36), lastAt: -Infinity }));
      r.entries.push(e);
      r.lastAt = e.at;
    }
  }

  /** Sample the twin's state at `now`, unless its last sample is less than `everyMs` old; keep at most `limit`. */
  record(model: string, id: string, spec: HistorySpec, state: unknown, now: number): void {
    const prefix = prefixOf(model, id);
    let r = this.rings.get(prefix);
    if (!r) this.rings.set(prefix, (r = { entries: [], first: 0, lastAt: -Infinity }));
    else if (spec.everyMs && now - r.lastAt < spec.everyMs) return;
    const kept = spec.pick ? spec.pick(state) : state;
    const e: HistoryEntry = { at: now, state: JSON.parse(JSON.stringify(kept ?? null)) as JsonValue };
    this.table.put(keyOf(prefix, r.first + r.entries.length), e);
    r.entries.push(e);
    r.lastAt = now;
    while (r.entries.length > spec.limit) {
      r.entries.shift();
      this.table.delete(keyOf(prefix, r.first++));
    }
  }

  /** Newest first, at most `limit`. */
  get(model: string, id: string, limit: number): HistoryEntry[] {
    const r = this.rings.get(prefixOf(model, id));
    if (!r) return [];
    const out: HistoryEntry[] = [];
    for (let i = r.entries.length - 1; i >= 0 && out.length < limit; i--) out.push(r.entries[i]!);
    return out;
  }

  /** A removed twin's history goes with it. */
  drop(model: string, id: string): void {
    const prefix = prefixOf(model, id);
    const r = this.rings.get(prefix);
    if (!r) return;
    for (let k = 0; k < r.entries.length; k++) this.table.delete(keyOf(prefix, r.first + k));
    this.rings.delete(prefix);
  }
}
