/**
 * The cluster's TwinStore for one partition, on JetStream.
 *
 * - Log: the partition's subject of the log stream. Devices' envelopes are published there by
 *   whichever node accepted them (ingest-batcher.ts), before the owner's engine sees them; the
 *   owner enqueues each one with `Engine.enqueueDurable` and tells this store which engine
 *   position it got (`noteConsumed`). Positions are the engine's; the store keeps the map from
 *   stream sequence to position for records not yet fully applied, and writes it with every
 *   checkpoint, so a new owner gives replayed records the positions twins compare against.
 *   Records past the checkpoint get fresh positions from the checkpoint's `nextPos`: no twin in
 *   the checkpoint has applied them.
 * - State: the partition's subject of the state stream. A checkpoint is one write of one or more
 *   chunks (changed twins, removals, pending twin-to-twin messages, table changes, the position
 *   map); once the deltas outgrow the last compacted base, a new base with every twin is written
 *   and older messages are purged. Every write expects the subject's last sequence to be the one
 *   this store wrote last: `open` writes a claim, so a node that lost the partition can no longer
 *   write (its next checkpoint fails and its engine stops).
 */
import { nuid } from '@nats-io/transport-node';
import { JetStreamApiError, JetStreamApiCodes, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import { HextwinError } from '@hextwin/shared';
import type { Checkpoint, DurableTable, LogRecord, StoredTwin, Tombstone, TwinStore } from '../store/store.js';
import { decodeRecord, encodeRecord, envelopeCount, pack, unpack } from './codec.js';
import { lastSeqOf, readSubject } from './jetstream.js';
import { JetStreamRefusal, type JsPublisher, type PubAck } from './js-publisher.js';
import type { ClusterNames } from './names.js';
import type { CheckedRecord, LogAdmission } from './log-admission.js';

/** A record as written, in the checked shape (one run per group), for a store without admission rules. */
function unchecked(data: Uint8Array): CheckedRecord {
  const w = decodeRecord(data);
  const out: CheckedRecord = {
    ...w,
    size: envelopeCount(w),
    groups: w.groups.map((g) => ({ source: g.source, size: g.envelopes.length, runs: [{ offset: 0, envelopes: g.envelopes }] })),
  };
  return out;
}

/** Log records, one per run of valid envelopes, at their positions from `at`. */
function pushRuns(into: LogRecord[], w: CheckedRecord, at: number, fromPos: number): void {
  for (const g of w.groups) {
    for (const run of g.runs) {
      const pos = at + run.offset;
      if (pos < fromPos) continue;
      const rec: LogRecord = { pos, envelopes: run.envelopes, source: g.source };
      if (w.hops) rec.hops = w.hops;
      if (w.control) rec.control = w.control;
      into.push(rec);
    }
    at += g.size;
  }
}

export interface NatsStoreOptions {
  js: JetStreamClient;
  jsm: JetStreamManager;
  names: ClusterNames;
  partition: number;
  /** the table returned for 'shared' (per-model data shared by the whole cluster); default: a partition table */
  shared?: DurableTable<unknown>;
  /** bytes of twin state per state message (JetStream's max_payload is 1 MiB by default) */
  chunkBytes?: number;
  /** write a compacted base once deltas since the last base exceed this many bytes and the base's own size */
  compactBytes?: number;
  /** ms between purges of the applied part of the partition's log */
  purgeEveryMs?: number;
  /**
   * Whether readLog also returns the records past the checkpoint (default true, as the store
   * contract asks). The partition runner consumes those live from `nextLogSeq` instead, which
   * gives them the same positions and spares a read of the log at every takeover.
   */
  readTail?: boolean;
  /** publishes without the client library's per-request cost (the cluster node's); default: the JetStream client */
  publisher?: JsPublisher;
  /** re-validation of what the log holds (the owner's); default: records taken as written */
  admission?: LogAdmission;
  logger?: Logger;
}

/** One message of the state subject. All chunks of one write share `id`; the last carries everything but twins. */
interface StateMsg {
  /** delta, base or claim */
  k: 'd' | 'b' | 'c';
  id: string;
  last?: 1;
  tw?: [string, Uint8Array][];
  rm?: Tombstone[];
  /** base: every tombstone */
  tombs?: Tombstone[];
  pe?: LogRecord[];
  me?: { nextPos: number; truncateBelow: number };
  /** [stream seq, position, envelopes] of consumed records not yet below the truncation point */
  mp?: [number, number, number][];
  /** last log sequence consumed */
  ls?: number;
  /** table operations in order: [table, key, value, deleted] */
  to?: [string, string, unknown, 0 | 1][];
  /** base: whole tables */
  tb?: [string, [string, unknown][]][];
}

interface MapEntry {
  seq: number;
  pos: number;
  n: number;
}

const twinKey = (model: string, id: string) => model + '/' + id;

class PartitionTable<V> implements DurableTable<V> {
  constructor(
    readonly name: string,
    readonly data: Map<string, unknown>,
    private readonly ops: (op: [string, string, unknown, 0 | 1]) => void,
  ) {}
  get(key: string): V | undefined {
    return this.data.get(key) as V | undefined;
  }
  put(key: string, value: V): void {
    this.data.set(key, value);
    this.ops([this.name, key, value, 0]);
  }
  delete(key: string): void {
    if (!this.data.delete(key)) return;
    this.ops([this.name, key, null, 1]);
  }
  *entries(prefix = ''): Iterable<[string, V]> {
    const keys = [...this.data.keys()].filter((k) => k.startsWith(prefix)).sort();
    for (const k of keys) yield [k, this.data.get(k) as V];
  }
}

function backoffMs(attempt: number): number {
  return Math.min(2_000, 100 * 2 ** Math.min(attempt, 5));
}

export class NatsStore implements TwinStore {
  readonly kind = 'nats';
  private readonly o: Required<Pick<NatsStoreOptions, 'chunkBytes' | 'compactBytes' | 'purgeEveryMs'>> & NatsStoreOptions;
  private readonly logSubject: string;
  private readonly stateSubject: string;

  // the durable image: what a new owner would load
  private twins = new Map<string, Uint8Array>();
  private tombs = new Map<string, Tombstone>();
  private pending: LogRecord[] = [];
  private meta: { nextPos: number; truncateBelow: number } | undefined;
  private map: MapEntry[] = [];
  private lastSeq = 0;
  private tableData = new Map<string, Map<string, unknown>>();
  private tables = new Map<string, DurableTable<unknown>>();
  private tableOps: [string, string, unknown, 0 | 1][] = [];

  // writing
  private stateSeq = 0;
  private readonly writer = nuid.next();
  private writeSeq = 0;
  private writeChain: Promise<void> = Promise.resolve();
  private fenced: HextwinError | null = null;
  private closed = false;
  private bytesSinceBase = 0;
  private baseBytes = 0;
  private lastPurge = 0;
  private purgedBelow = 0;
  private compacting: Promise<void> | null = null;
  /** writes since the last base: a takeover reads them all, so keep them few */
  private writesSinceBase = 0;

  constructor(opts: NatsStoreOptions) {
    this.o = { chunkBytes: 768 * 1024, compactBytes: 4 * 1024 * 1024, purgeEveryMs: 5_000, ...opts };
    this.logSubject = opts.names.logSubject(opts.partition);
    this.stateSubject = opts.names.stateSubject(opts.partition);
  }

  /** The next log sequence to consume: everything before it was read by `readLog` or noted. */
  get nextLogSeq(): number {
    return this.lastSeq + 1;
  }

  /** Set once another node claimed the partition: no further write will succeed. */
  get fencedBy(): HextwinError | null {
    return this.fenced;
  }

  async open(): Promise<void> {
    const { js, jsm, names } = this.o;
    const end = await lastSeqOf(jsm, names.stateStream, this.stateSubject);
    let chunks: StateMsg[] = [];
    let bytes = 0;
    if (end > 0) {
      for await (const m of readSubject(js, names.stateStream, this.stateSubject, 1)) {
        const msg = unpack<StateMsg>(m.data);
        if (chunks.length && chunks[0]!.id !== msg.id) chunks = []; // an unfinished write: its writer died mid-way
        if (!chunks.length) bytes = 0;
        chunks.push(msg);
        bytes += m.data.length;
        if (msg.last) {
          this.applyWrite(chunks);
          if (msg.k === 'b') {
            this.baseBytes = bytes;
            this.bytesSinceBase = 0;
            this.writesSinceBase = 0;
          } else {
            this.bytesSinceBase += bytes;
            this.writesSinceBase += chunks.length;
          }
          chunks = [];
        }
        if (m.seq >= end) break;
      }
    }
    this.stateSeq = end;
    this.purgedBelow = this.map[0]?.seq ?? this.lastSeq + 1;
    // claim the partition: from here on, a previous owner's writes fail
    await this.enqueueWrite([pack({ k: 'c', id: this.nextWriteId(), last: 1 } satisfies StateMsg)]);
  }

  private nextWriteId(): string {
    return `${this.writer}.${this.writeSeq++}`;
  }

  private applyWrite(chunks: StateMsg[]): void {
    const last = chunks[chunks.length - 1]!;
    if (last.k === 'c') return;
    if (last.k === 'b') {
      this.twins.clear();
      this.tombs.clear();
      for (const rows of this.tableData.values()) rows.clear();
    }
    // removals first: a twin may have been removed and created anew since the last checkpoint
    for (const r of last.rm ?? []) {
      const k = twinKey(r.model, r.id);
      this.twins.delete(k);
      this.tombs.set(k, r);
    }
    for (const c of chunks) for (const [k, buf] of c.tw ?? []) this.twins.set(k, buf);
    for (const r of last.tombs ?? []) this.tombs.set(twinKey(r.model, r.id), r);
    if (last.pe) this.pending = last.pe;
    if (last.me) {
      this.meta = last.me;
      for (const [k, t] of this.tombs) if (t.lastPos < last.me.truncateBelow) this.tombs.delete(k);
    }
    if (last.mp) this.map = last.mp.map(([seq, pos, n]) => ({ seq, pos, n }));
    if (last.ls !== undefined) this.lastSeq = Math.max(this.lastSeq, last.ls);
    for (const [name, rows] of last.tb ?? []) {
      const data = this.tableMap(name);
      for (const [k, v] of rows) data.set(k, v);
    }
    for (const [name, key, value, del] of last.to ?? []) {
      const data = this.tableMap(name);
      if (del) data.delete(key);
      else data.set(key, value);
    }
  }

  private tableMap(name: string): Map<string, unknown> {
    let m = this.tableData.get(name);
    if (!m) this.tableData.set(name, (m = new Map()));
    return m;
  }

  /** The engine gave `pos` to the log record at stream sequence `seq` (n envelopes). */
  noteConsumed(seq: number, pos: number, n: number): void {
    this.map.push({ seq, pos, n: Math.max(1, n) });
    if (seq > this.lastSeq) this.lastSeq = seq;
  }

  async append(record: LogRecord): Promise<void> {
    if (this.fenced) throw this.fenced;
    const wire = {
      groups: [{ source: record.source ?? null, envelopes: record.envelopes }],
      pos: record.pos,
      ...(record.hops ? { hops: record.hops } : {}),
      ...(record.control ? { control: record.control } : {}),
    };
    const ack = await this.publish(this.logSubject, encodeRecord(wire), undefined, undefined, 5_000);
    this.noteConsumed(ack.seq, record.pos, record.envelopes.length);
  }

  private check(data: Uint8Array): CheckedRecord {
    return this.o.admission ? this.o.admission.decode(data) : unchecked(data);
  }

  async *readLog(fromPos: number): AsyncIterable<LogRecord> {
    const { js, jsm, names } = this.o;
    const mapped = new Map(this.map.map((e) => [e.seq, e]));
    const resume = this.map[0]?.seq ?? this.lastSeq + 1;
    const known = this.lastSeq;
    if (this.o.readTail === false && this.map.length <= 64) {
      // only the records the checkpoint knew and some twin had not applied: fetch them by sequence
      const got = await Promise.all(this.map.map((e) => jsm.streams.getMessage(names.logStream, { seq: e.seq }).then((m) => [e, m] as const)));
      const recs: LogRecord[] = [];
      for (const [e, m] of got) {
        if (!m) continue;
        const w = this.check(m.data);
        pushRuns(recs, w, w.pos ?? e.pos, fromPos);
      }
      yield* this.withPending(recs, fromPos);
      return;
    }
    const end = await lastSeqOf(jsm, names.logStream, this.logSubject);
    let fresh = this.meta?.nextPos ?? 1;
    for (const e of this.map) fresh = Math.max(fresh, e.pos + e.n);
    const fromStream: LogRecord[] = [];
    if (end >= resume) {
      for await (const m of readSubject(js, names.logStream, this.logSubject, resume)) {
        const w = this.check(m.data);
        const n = w.size;
        let pos: number;
        if (w.pos !== undefined) pos = w.pos;
        else if (mapped.has(m.seq)) pos = mapped.get(m.seq)!.pos;
        else if (m.seq <= known)
          pos = -1; // applied before the checkpoint and trimmed from the map
        else pos = fresh;
        if (pos >= 0) {
          if (m.seq > known) this.noteConsumed(m.seq, pos, n);
          fresh = Math.max(fresh, pos + Math.max(1, n));
          // one log record per run of valid envelopes of each source group, at the positions the owner gave them
          pushRuns(fromStream, w, pos, fromPos);
        }
        if (m.seq >= end) break;
      }
    }
    yield* this.withPending(fromStream, fromPos);
  }

  /** Stream records merged with the checkpoint's pending internal records, in position order. */
  private withPending(fromStream: LogRecord[], fromPos: number): LogRecord[] {
    // a pending internal record may also be in the stream (replayed stream records are re-pended): keep one
    const streamPos = new Set(fromStream.map((r) => r.pos));
    const merged = [...this.pending.filter((p) => p.pos >= fromPos && !streamPos.has(p.pos)).map((p) => unpack<LogRecord>(pack(p))), ...fromStream];
    merged.sort((a, b) => a.pos - b.pos);
    return merged;
  }

  checkpoint(cp: Checkpoint): Promise<void> {
    if (this.fenced) return Promise.reject(this.fenced);
    if (this.closed) return Promise.reject(new HextwinError('STORE_FAILED', 'store is closed'));
    // encode now: the engine mutates live state as soon as this returns
    const tw: [string, Uint8Array][] = cp.twins.map((t) => [twinKey(t.model, t.id), pack(t)]);
    for (const e of cp.encoded ?? []) tw.push([twinKey(e.model, e.id), e.bytes]);
    this.map = this.map.filter((e) => e.pos + e.n > cp.truncateBelow);
    const tail: StateMsg = {
      k: 'd',
      id: this.nextWriteId(),
      last: 1,
      rm: cp.removed,
      pe: cp.pending,
      me: { nextPos: cp.nextPos, truncateBelow: cp.truncateBelow },
      mp: this.map.map((e) => [e.seq, e.pos, e.n]),
      ls: this.lastSeq,
      to: this.takeTableOps(),
    };
    const chunks = this.chunk(tw, tail);
    this.bytesSinceBase += chunks.reduce((n, b) => n + b.length, 0);
    return this.enqueueWrite(chunks).then(() => this.afterWrite());
  }

  private takeTableOps(): [string, string, unknown, 0 | 1][] {
    const ops = this.tableOps;
    this.tableOps = [];
    return ops;
  }

  /** Split twins over messages of at most chunkBytes; encode every chunk now and apply it to the image. */
  private chunk(tw: [string, Uint8Array][], tail: StateMsg): Uint8Array[] {
    const groups: [string, Uint8Array][][] = [[]];
    let size = 0;
    for (const e of tw) {
      if (size + e[1].length > this.o.chunkBytes && groups[groups.length - 1]!.length) {
        groups.push([]);
        size = 0;
      }
      groups[groups.length - 1]!.push(e);
      size += e[1].length + e[0].length + 8;
    }
    const msgs: StateMsg[] = groups.map((g, i) => (i === groups.length - 1 ? { ...tail, tw: g } : { k: tail.k, id: tail.id, tw: g }));
    const bytes = msgs.map((m) => pack(m));
    // the image keeps decoded copies, so later changes to live objects cannot leak into it
    this.applyWrite(bytes.map((b, i) => (i === bytes.length - 1 ? unpack<StateMsg>(b) : msgs[i]!)));
    return bytes;
  }

  /** Queue a write after every earlier one; resolves with the sequence of its first message once all are stored. */
  /** One acknowledged publish; a refusal by JetStream comes back as JetStreamRefusal either way. */
  private async publish(subject: string, data: Uint8Array, msgID: string | undefined, expect: number | undefined, timeoutMs: number): Promise<PubAck> {
    if (this.o.publisher)
      return this.o.publisher.publish(subject, data, {
        ...(msgID ? { msgID } : {}),
        ...(expect !== undefined ? { expectLastSubjectSequence: expect } : {}),
        timeoutMs,
      });
    try {
      return await this.o.js.publish(subject, data, {
        ...(msgID ? { msgID } : {}),
        ...(expect !== undefined ? { expect: { lastSubjectSequence: expect } } : {}),
        timeout: timeoutMs,
      });
    } catch (e) {
      if (e instanceof JetStreamApiError)
        throw new JetStreamRefusal(e.code === JetStreamApiCodes.StreamWrongLastSequence || /wrong last sequence/.test(e.message) ? 10071 : e.code, e.message);
      throw e;
    }
  }

  private enqueueWrite(chunks: Uint8Array[]): Promise<number> {
    const p = this.writeChain.then(() => this.publishChunks(chunks));
    this.writeChain = p.then(
      () => undefined,
      () => undefined,
    );
    return p;
  }

  private async publishChunks(chunks: Uint8Array[]): Promise<number> {
    let first = 0;
    for (const c of chunks) {
      const msgID = nuid.next();
      for (let attempt = 0; ; attempt++) {
        if (this.fenced) throw this.fenced;
        try {
          // a short wait: a write the server dropped while restarting is sent again sooner (the id makes that safe)
          const ack = await this.publish(this.stateSubject, c, msgID, this.stateSeq, 2_000);
          this.stateSeq = ack.seq;
          first ||= ack.seq;
          this.writesSinceBase++;
          break;
        } catch (e) {
          if (e instanceof JetStreamRefusal) {
            if (e.wrongLastSequence) {
              this.fenced = new HextwinError('STORE_FAILED', `partition ${this.o.partition} was claimed by another node`, { cause: e });
              throw this.fenced;
            }
            throw new HextwinError('STORE_FAILED', `checkpoint of partition ${this.o.partition} refused: ${e.message}`, { cause: e });
          }
          if (this.closed)
            throw new HextwinError('STORE_FAILED', `checkpoint of partition ${this.o.partition} abandoned: the store closed while NATS was unreachable`, {
              cause: e,
            });
          // NATS unreachable or restarting: the message id makes a retry of a stored write harmless
          if (attempt === 0) this.o.logger?.warn({ err: e, partition: this.o.partition }, 'checkpoint write failed; retrying');
          await new Promise((r) => setTimeout(r, backoffMs(attempt)));
        }
      }
    }
    return first;
  }

  /** After a checkpoint: drop the applied part of the log, and compact the state once deltas outgrow the base. */
  private afterWrite(): void {
    const below = this.map[0]?.seq ?? this.lastSeq + 1;
    const now = Date.now();
    if (below > this.purgedBelow && now - this.lastPurge >= this.o.purgeEveryMs) {
      this.lastPurge = now;
      const { jsm, names } = this.o;
      void jsm.streams.purge(names.logStream, { filter: this.logSubject, seq: below }).then(
        () => void (this.purgedBelow = Math.max(this.purgedBelow, below)),
        (e) => this.o.logger?.warn({ err: e, partition: this.o.partition }, 'purging the applied log failed'),
      );
    }
    if (!this.compacting && (this.bytesSinceBase > Math.max(this.o.compactBytes, this.baseBytes) || this.writesSinceBase > 64)) {
      this.compacting = this.compact()
        .catch((e) => this.o.logger?.warn({ err: e, partition: this.o.partition }, 'compaction failed'))
        .finally(() => (this.compacting = null));
    }
  }

  /** Write every twin, tombstone and table as a new base, then purge what came before it. */
  private async compact(): Promise<void> {
    if (this.fenced || this.closed) return;
    this.bytesSinceBase = 0;
    this.writesSinceBase = 0;
    const tail: StateMsg = {
      k: 'b',
      id: this.nextWriteId(),
      last: 1,
      tombs: [...this.tombs.values()],
      pe: this.pending,
      ...(this.meta ? { me: this.meta } : {}),
      mp: this.map.map((e) => [e.seq, e.pos, e.n]),
      ls: this.lastSeq,
      tb: [...this.tableData].map(([name, rows]) => [name, [...rows]]),
      to: this.takeTableOps(),
    };
    const tw = [...this.twins];
    const groups: StateMsg[] = [];
    let cur: [string, Uint8Array][] = [];
    let size = 0;
    for (const e of tw) {
      if (size + e[1].length > this.o.chunkBytes && cur.length) {
        groups.push({ k: 'b', id: tail.id, tw: cur });
        cur = [];
        size = 0;
      }
      cur.push(e);
      size += e[1].length + e[0].length + 8;
    }
    groups.push({ ...tail, tw: cur });
    const bytes = groups.map((g) => pack(g));
    this.baseBytes = bytes.reduce((n, b) => n + b.length, 0);
    const firstSeq = await this.enqueueWrite(bytes);
    // everything before the base is contained in it
    const { jsm, names } = this.o;
    await jsm.streams.purge(names.stateStream, { filter: this.stateSubject, seq: firstSeq });
  }

  /** Lets the engine encode a large checkpoint's twins in slices between other work. */
  encodeTwin(twin: StoredTwin): Uint8Array {
    return pack(twin);
  }

  async *loadTwins(): AsyncIterable<StoredTwin> {
    for (const buf of this.twins.values()) yield unpack<StoredTwin>(buf);
  }

  async loadTombstones(): Promise<Tombstone[]> {
    return [...this.tombs.values()];
  }

  async loadMeta(): Promise<{ nextPos: number; truncateBelow: number } | undefined> {
    return this.meta;
  }

  /** Resolves once every write issued so far, and a compaction in progress, is durable. */
  async flushed(): Promise<void> {
    await this.compacting;
    if (this.tableOps.length && !this.fenced && !this.closed) {
      const tail: StateMsg = { k: 'd', id: this.nextWriteId(), last: 1, to: this.takeTableOps() };
      const b = pack(tail);
      this.bytesSinceBase += b.length;
      await this.enqueueWrite([b]);
      return;
    }
    await this.writeChain;
    if (this.fenced) throw this.fenced;
  }

  table<V>(name: string): DurableTable<V> {
    if (name === 'shared' && this.o.shared) return this.o.shared as DurableTable<V>;
    let t = this.tables.get(name);
    if (!t) {
      t = new PartitionTable<unknown>(name, this.tableMap(name), (op) => this.tableOps.push(op));
      this.tables.set(name, t);
    }
    return t as DurableTable<V>;
  }

  /** Twins in the durable image (for tests and metrics). */
  get twinCount(): number {
    return this.twins.size;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.tableOps.length && !this.fenced) await this.flushed().catch(() => undefined);
    this.closed = true;
    await this.writeChain;
  }

  /** Stop without writing anything more (the partition was lost); pending retries give up. */
  abandon(): void {
    this.closed = true;
    this.fenced ??= new HextwinError('STORE_FAILED', `partition ${this.o.partition} was given up`);
  }
}
