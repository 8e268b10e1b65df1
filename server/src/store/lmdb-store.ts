/**
 * The embedded durable store: one LMDB environment in DATA_DIR.
 *
 * - `log`: the write-ahead log of accepted batches, keyed by position. lmdb-js groups the puts of
 *   one event turn into one transaction (group commit); `append` resolves only once the commit is
 *   flushed to disk, so an acknowledged message survives a kill -9 or a power cut.
 * - `twins`: each twin's msgpack-encoded state with its last applied log position. A checkpoint
 *   encodes states synchronously and writes them, pending internal messages, tombstones, the log
 *   truncation and the meta record in one transaction, ordered after every earlier append.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { open, type Database, type RootDatabase } from 'lmdb';
import { Packr } from 'msgpackr';
import type { Checkpoint, DurableTable, LogRecord, StoredTwin, Tombstone, TwinStore } from './store.js';

const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false });

class LmdbTable<V> implements DurableTable<V> {
  private readonly cache = new Map<string, V>();
  constructor(private readonly db: Database<V, string>) {
    for (const { key, value } of db.getRange()) this.cache.set(key, value);
  }
  get(key: string): V | undefined {
    return this.cache.get(key);
  }
  put(key: string, value: V): void {
    this.cache.set(key, value);
    void this.db.put(key, value);
  }
  delete(key: string): void {
    this.cache.delete(key);
    void this.db.remove(key);
  }
  *entries(prefix = ''): Iterable<[string, V]> {
    const keys = [...this.cache.keys()].filter((k) => k.startsWith(prefix)).sort();
    for (const k of keys) yield [k, this.cache.get(k)!];
  }
}

export class LmdbStore implements TwinStore {
  readonly kind = 'lmdb';
  private env!: RootDatabase;
  private log!: Database<LogRecord, number>;
  private twins!: Database<Buffer, string>;

  private tombs!: Database<Tombstone, string>;
  private meta!: Database<{ nextPos: number; truncateBelow: number }, string>;
  private tables = new Map<string, LmdbTable<unknown>>();

  constructor(private readonly dir: string) {}

  async open(): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    this.env = open({ path: path.join(this.dir, 'hextwin.lmdb'), maxDbs: 32, mapSize: 2 * 1024 ** 3, overlappingSync: true });
    this.log = this.env.openDB<LogRecord, number>({ name: 'log', keyEncoding: 'uint32', encoding: 'msgpack' });
    this.twins = this.env.openDB<Buffer, string>({ name: 'twins', encoding: 'binary' });
    this.tombs = this.env.openDB<Tombstone, string>({ name: 'tombstones', encoding: 'msgpack' });
    this.meta = this.env.openDB({ name: 'meta', encoding: 'msgpack' });
  }

  /** Encodes synchronously: a record that cannot be encoded throws here, before anything is written. */
  append(record: LogRecord): Promise<void> {
    const committed = this.log.put(record.pos, record);
    return committed.then(() => this.env.flushed).then(() => undefined);
  }

  async *readLog(fromPos: number): AsyncIterable<LogRecord> {
    for (const { value } of this.log.getRange({ start: fromPos })) yield value;
  }

  encodeTwin(twin: StoredTwin): Uint8Array {
    return packr.pack(twin);
  }

  checkpoint(cp: Checkpoint): Promise<void> {
    // encode now: the engine mutates live state as soon as this returns
    const encoded: [string, Uint8Array][] = cp.twins.map((t) => [t.model + '/' + t.id, packr.pack(t)]);
    if (cp.encoded) for (const e of cp.encoded) encoded.push([e.model + '/' + e.id, e.bytes]);
    const pending = cp.pending.map((p) => [p.pos, packr.pack(p)] as const);
    const removed = cp.removed;
    const { truncateBelow, nextPos } = cp;
    return this.env
      .transaction(() => {
        for (const [pos, buf] of pending) void this.log.put(pos, packr.unpack(buf) as LogRecord);
        for (const r of removed) {
          const k = r.model + '/' + r.id;
          void this.twins.remove(k);
          void this.tombs.put(k, r);
        }
        for (const [k, buf] of encoded) void this.twins.put(k, buf as Buffer);
        for (const k of this.log.getKeys({ end: truncateBelow })) void this.log.remove(k);
        for (const { key, value } of this.tombs.getRange()) if (value.lastPos < truncateBelow) void this.tombs.remove(key);
        void this.meta.put('checkpoint', { nextPos, truncateBelow });
      })
      .then(() => this.env.flushed)
      .then(() => undefined);
  }

  async *loadTwins(): AsyncIterable<StoredTwin> {
    for (const { value } of this.twins.getRange()) yield packr.unpack(value) as StoredTwin;
  }

  async loadTombstones(): Promise<Tombstone[]> {
    return [...this.tombs.getRange()].map((e) => e.value);
  }

  async loadMeta(): Promise<{ nextPos: number; truncateBelow: number } | undefined> {
    return this.meta.get('checkpoint');
  }

  async flushed(): Promise<void> {
    await this.env.flushed;
  }

  table<V>(name: string): DurableTable<V> {
    let t = this.tables.get(name);
    if (!t) {
      t = new LmdbTable<unknown>(this.env.openDB<unknown, string>({ name: 'table:' + name, encoding: 'msgpack' }));
      this.tables.set(name, t);
    }
    return t as LmdbTable<V>;
  }

  async close(): Promise<void> {
    await this.env.flushed;
    await this.env.close();
  }
}
