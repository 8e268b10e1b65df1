/**
 * The embedded durable store: one LMDB environment in DATA_DIR.
 *
 * - `log`: the write-ahead log of accepted batches, keyed by position. lmdb-js groups the puts of
 *   one event turn into one transaction (group commit); `append` resolves only once the commit is
 *   flushed to disk, so an acknowledged message survives a kill -9 or a power cut.
 * - `twins`: each twin's msgpack-encoded state with its last applied log position. The engine
 *   encodes a checkpoint's twins in slices and hands them over as it goes (`beginCheckpoint`);
 *   a worker thread (lmdb-checkpoint-worker.mjs) writes them, pending internal messages,
 *   tombstones, the log truncation and the meta record in one transaction and syncs it, so a
 *   large checkpoint never runs its transaction on the main thread.
 */
import { HextwinError, keyString } from '@hextwin/shared';
import { mkdirSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { open, type Database, type RootDatabase } from 'lmdb';
import { DB, TABLE_PREFIX, decodeStoredTwin, encodeStoredTwin, lmdbEnvOptions } from './lmdb-layout.js';
import { decodeRaw } from './raw-batch.js';
import type { Checkpoint, CheckpointMeta, CheckpointWriter, DurableTable, EncodedTwin, LogRecord, StoredTwin, Tombstone, TwinStore } from './store.js';

/** A record that cannot be read stops the start with a pointer to the repair tool, not a stack trace. */
function damaged(what: string, key: unknown, cause: unknown): HextwinError {
  const message = `${what} ${JSON.stringify(key)} cannot be read (${(cause as Error)?.message ?? String(cause)}); run \`pnpm hextwin check\`, then \`pnpm hextwin repair\` (docs/SECURITY.md, "Recovering a damaged store")`;
  return new HextwinError('STORE_DAMAGED', message, { cause });
}

/**
 * Every entry of a database in key order, as one cursor (recovery reads millions); a value that
 * does not decode ends the read with STORE_DAMAGED naming its key.
 */
function* entriesOf<K extends string | number, V>(db: Database<V, K>, what: string, start?: K): Generator<{ key: K; value: V }> {
  let last: K | undefined;
  try {
    for (const e of db.getRange(start === undefined ? {} : { start })) {
      last = e.key;
      yield e;
    }
  } catch (e) {
    if (e instanceof HextwinError) throw e;
    const from = last ?? start;
    const [bad] = from === undefined ? db.getKeys({ limit: 1 }) : db.getKeys({ start: from, limit: 2 }).filter((k) => k !== last);
    throw damaged(what, bad ?? last, e);
  }
}

class LmdbTable<V> implements DurableTable<V> {
  private readonly cache = new Map<string, V>();
  constructor(
    private readonly db: Database<V, string>,
    name: string,
  ) {
    for (const { key, value } of entriesOf(db, `table ${name}: record`)) this.cache.set(key, value);
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

/** The checkpoint thread and the requests waiting on it. */
class CheckpointThread {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  private seq = 0;
  private failed: Error | null = null;

  constructor(options: object) {
    this.worker = new Worker(new URL('./lmdb-checkpoint-worker.mjs', import.meta.url), { workerData: { options } });
    this.worker.unref();
    this.worker.on('message', (m: { type: string; id: number; error?: string }) => {
      const w = this.waiting.get(m.id);
      if (!w) return;
      this.waiting.delete(m.id);
      if (m.type === 'committed') w.resolve();
      else w.reject(new Error(`checkpoint failed: ${m.error}`));
    });
    this.worker.on('error', (e) => this.fail(e));
    this.worker.on('exit', (code) => this.fail(new Error(`the checkpoint thread exited (code ${code})`)));
  }

  private fail(e: Error): void {
    this.failed ??= e;
    for (const w of this.waiting.values()) w.reject(e);
    this.waiting.clear();
  }

  writer(): CheckpointWriter {
    const id = ++this.seq;
    const worker = this.worker;
    return {
      add: (chunk) => {
        const list = chunk as EncodedTwin[];
        let total = 0;
        for (const e of list) total += e.bytes.length;
        const buf = new Uint8Array(total);
        const ends = new Uint32Array(list.length);
        const keys = new Array<string>(list.length);
        let at = 0;
        for (let i = 0; i < list.length; i++) {
          const e = list[i]!;
          buf.set(e.bytes, at);
          at += e.bytes.length;
          ends[i] = at;
          keys[i] = keyString(e.model, e.id);
        }
        worker.postMessage({ type: 'add', id, keys, ends: ends.buffer, buf: buf.buffer }, [ends.buffer, buf.buffer]);
      },
      commit: (meta: CheckpointMeta) => {
        if (this.failed) return Promise.reject(this.failed);
        return new Promise<void>((resolve, reject) => {
          this.waiting.set(id, { resolve, reject });
          worker.postMessage({ type: 'commit', id, ...meta });
        });
      },
      abort: () => worker.postMessage({ type: 'abort', id }),
    };
  }

  async close(): Promise<void> {
    await this.worker.terminate();
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
  private thread: CheckpointThread | null = null;

  constructor(private readonly dir: string) {}

  async open(): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    const options = { ...lmdbEnvOptions(this.dir), overlappingSync: true };
    this.env = open(options);
    this.thread = new CheckpointThread(options);
    this.log = this.env.openDB<LogRecord, number>({ ...DB.log });
    this.twins = this.env.openDB<Buffer, string>({ ...DB.twins });
    this.tombs = this.env.openDB<Tombstone, string>({ ...DB.tombstones });
    this.meta = this.env.openDB({ ...DB.meta });
  }

  /** Encodes synchronously: a record that cannot be encoded throws here, before anything is written. */
  append(record: LogRecord): Promise<void> {
    // a batch that arrived as bytes is logged as those bytes: a copy instead of an encoding
    const value = record.raw ? { pos: record.pos, envelopes: [], source: record.source, raw: record.raw } : record;
    const committed = this.log.put(record.pos, value as LogRecord);
    return committed.then(() => this.env.flushed).then(() => undefined);
  }

  async *readLog(fromPos: number): AsyncIterable<LogRecord> {
    for (const { key, value } of entriesOf(this.log, 'log record at position', fromPos)) {
      try {
        if (value.raw) value.envelopes = decodeRaw(value.raw);
      } catch (e) {
        throw damaged('log record at position', key, e);
      }
      yield value;
    }
  }

  encodeTwin(twin: StoredTwin): Uint8Array {
    return encodeStoredTwin(twin);
  }

  beginCheckpoint(): CheckpointWriter {
    const w = this.thread!.writer();
    return {
      ...w,
      // the worker's transaction is not this thread's: renew the read snapshot, or reads right
      // after the commit may still see the store as it was before it
      commit: async (meta) => {
        await w.commit(meta);
        this.env.resetReadTxn();
      },
    };
  }

  /** The whole checkpoint in one call (tests, tools): the same worker transaction. */
  checkpoint(cp: Checkpoint): Promise<void> {
    const w = this.beginCheckpoint();
    const encoded: EncodedTwin[] = cp.twins.map((t) => ({ model: t.model, id: t.id, bytes: encodeStoredTwin(t) }));
    if (cp.encoded) encoded.push(...cp.encoded);
    if (encoded.length) w.add(encoded);
    return w.commit({ removed: cp.removed, pending: cp.pending, truncateBelow: cp.truncateBelow, nextPos: cp.nextPos });
  }

  async *loadTwins(): AsyncIterable<StoredTwin> {
    for (const { key, value } of entriesOf(this.twins, 'twin')) {
      let twin: StoredTwin;
      try {
        twin = decodeStoredTwin(value);
      } catch (e) {
        throw damaged('twin', key, e);
      }
      yield twin;
    }
  }

  async loadTombstones(): Promise<Tombstone[]> {
    return [...entriesOf(this.tombs, 'tombstone')].map((e) => e.value);
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
      t = new LmdbTable<unknown>(this.env.openDB<unknown, string>({ name: TABLE_PREFIX + name, encoding: 'msgpack' }), name);
      this.tables.set(name, t);
    }
    return t as LmdbTable<V>;
  }

  async close(): Promise<void> {
    await this.env.flushed;
    await this.thread?.close();
    this.thread = null;
    await this.env.close();
  }
}
