/**
 * An in-memory TwinStore for the workbench and tests. Keeps what a durable store would keep, so
 * a second engine opened on the same instance behaves like a restart.
 */
import { keyString } from '@hextwin/shared';
import type { Checkpoint, DurableTable, LogRecord, StoredTwin, Tombstone, TwinStore } from './store.js';

class MemoryTable<V> implements DurableTable<V> {
  readonly map = new Map<string, V>();
  get(key: string): V | undefined {
    return this.map.get(key);
  }
  put(key: string, value: V): void {
    this.map.set(key, structuredClone(value));
  }
  delete(key: string): void {
    this.map.delete(key);
  }
  *entries(prefix = ''): Iterable<[string, V]> {
    const keys = [...this.map.keys()].filter((k) => k.startsWith(prefix)).sort();
    for (const k of keys) yield [k, this.map.get(k)!];
  }
}

export class MemoryStore implements TwinStore {
  readonly kind = 'memory';
  private log = new Map<number, LogRecord>();
  private twins = new Map<string, StoredTwin>();
  private tombstones = new Map<string, Tombstone>();
  private meta: { nextPos: number; truncateBelow: number } | undefined;
  private tables = new Map<string, MemoryTable<unknown>>();

  async open(): Promise<void> {}

  async append(record: LogRecord): Promise<void> {
    this.log.set(record.pos, structuredClone(record));
  }

  async *readLog(fromPos: number): AsyncIterable<LogRecord> {
    const keys = [...this.log.keys()].filter((p) => p >= fromPos).sort((a, b) => a - b);
    for (const k of keys) yield structuredClone(this.log.get(k)!);
  }

  checkpoint(cp: Checkpoint): Promise<void> {
    for (const p of cp.pending) this.log.set(p.pos, structuredClone(p));
    for (const r of cp.removed) {
      this.twins.delete(keyString(r.model, r.id));
      this.tombstones.set(keyString(r.model, r.id), r);
    }
    for (const t of cp.twins) this.twins.set(keyString(t.model, t.id), structuredClone(t));
    for (const k of [...this.log.keys()]) if (k < cp.truncateBelow) this.log.delete(k);
    for (const [k, t] of this.tombstones) if (t.lastPos < cp.truncateBelow) this.tombstones.delete(k);
    this.meta = { nextPos: cp.nextPos, truncateBelow: cp.truncateBelow };
    return Promise.resolve();
  }

  async *loadTwins(): AsyncIterable<StoredTwin> {
    for (const t of this.twins.values()) yield structuredClone(t);
  }

  async loadTombstones(): Promise<Tombstone[]> {
    return [...this.tombstones.values()];
  }

  async loadMeta(): Promise<{ nextPos: number; truncateBelow: number } | undefined> {
    return this.meta;
  }

  async flushed(): Promise<void> {}

  table<V>(name: string): DurableTable<V> {
    let t = this.tables.get(name);
    if (!t) this.tables.set(name, (t = new MemoryTable<unknown>()));
    return t as MemoryTable<V>;
  }

  async close(): Promise<void> {}

  /** Number of log records kept (for tests of truncation). */
  get logSize(): number {
    return this.log.size;
  }
}
