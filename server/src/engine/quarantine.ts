/**
 * Quarantine: twins (or whole models) whose code is not run any more — a model that hung past its
 * time budget, or a state that cannot be stored. Kept in a durable table, so a restart does not
 * run the same code into the same wall (no crash loop); ingest for a quarantined twin is refused
 * with TWIN_QUARANTINED, and its queued messages are dropped, counted, until an operator releases it.
 */
import { keyString } from '@hextwin/shared';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import type { CompiledModel } from './compiled-model.js';
import type { QuarantineRecord } from './types.js';
import type { DurableTable } from '../store/store.js';

export class Quarantine {
  constructor(
    private readonly table: DurableTable<QuarantineRecord>,
    private readonly models: ReadonlyMap<string, CompiledModel>,
  ) {}

  /** Load the table, plus a note the watchdog left when it ended a hung process. */
  restore(watchdogNote?: string): QuarantineRecord[] {
    const fresh: QuarantineRecord[] = [];
    if (watchdogNote && existsSync(watchdogNote)) {
      try {
        const rec = JSON.parse(readFileSync(watchdogNote, 'utf8')) as QuarantineRecord;
        if (typeof rec.model === 'string' && typeof rec.id === 'string') {
          this.table.put(key(rec.model, rec.id), rec);
          fresh.push(rec);
        }
      } catch {
        // a torn note: the watchdog died writing it; the twin will hang again and be noted again
      }
      rmSync(watchdogNote, { force: true });
    }
    for (const [, rec] of this.table.entries()) this.models.get(rec.model)?.quarantined.set(rec.id, rec);
    return fresh;
  }

  /** Make `records` (from an authoritative source outside the store) the whole quarantine. */
  adopt(records: QuarantineRecord[]): void {
    const keep = new Set(records.map((r) => key(r.model, r.id)));
    for (const r of this.list()) if (!keep.has(key(r.model, r.id))) this.release(r.model, r.id);
    for (const r of records) this.add(r);
  }

  add(rec: QuarantineRecord): void {
    this.table.put(key(rec.model, rec.id), rec);
    this.models.get(rec.model)?.quarantined.set(rec.id, rec);
  }

  release(model: string, id: string): boolean {
    const k = key(model, id);
    if (!this.table.get(k)) return false;
    this.table.delete(k);
    this.models.get(model)?.quarantined.delete(id);
    return true;
  }

  list(): QuarantineRecord[] {
    return [...this.table.entries()].map(([, r]) => r);
  }

  get size(): number {
    let n = 0;
    for (const cm of this.models.values()) n += cm.quarantined.size;
    return n;
  }
}

const key = keyString;
