/**
 * The state store: the durable home of twin state and of accepted-but-unapplied messages.
 * Implementations: memory (workbench, tests), lmdb (embedded), and the cluster's NATS store.
 * Every implementation passes the shared contract suite (server/test/contracts/store-contract.ts).
 *
 * Ordering rule the engine relies on: writes become durable in the order they were issued, so
 * a checkpoint that is durable implies every log append issued before it is durable too.
 */
import type { Envelope, SourceRef } from '../engine/types.js';
import type { RawBatch } from './raw-batch.js';

/** One write-ahead log record: a batch of envelopes accepted together. */
export interface LogRecord {
  /** position of the first envelope; envelope i has position pos + i */
  pos: number;
  envelopes: Envelope[];
  source?: SourceRef | null;
  /** twin-to-twin hop count of internal messages (0 for external) */
  hops?: number;
  /** a control record: 'remove' removes the twins named by its envelopes */
  control?: 'remove';
  /** a twin-to-twin record for twins that exist only (SendOptions.create false) */
  create?: false;
  /**
   * The bytes the batch arrived in, when they describe `envelopes` exactly: a store may keep these
   * instead of encoding the envelopes, and give envelopes back decoded from them (raw-batch.ts).
   */
  raw?: RawBatch;
}

export interface StoredTimer {
  name: string;
  due: number;
  /** period in ms for recurring timers */
  every?: number;
}

export interface StoredTwin {
  model: string;
  id: string;
  state: unknown;
  /** position of the last envelope applied to this twin */
  lastPos: number;
  createdAt: number;
  updatedAt: number;
  version: number;
  timers?: StoredTimer[];
  source?: SourceRef | null;
  lastError?: { at: number; code: string; message: string } | null;
}

export interface EncodedTwin {
  model: string;
  id: string;
  bytes: Uint8Array;
}

export interface Tombstone {
  model: string;
  id: string;
  lastPos: number;
}

export interface Checkpoint {
  twins: StoredTwin[];
  /** twins already encoded by `encodeTwin` (stores that offer it get these instead of `twins`) */
  encoded?: EncodedTwin[];
  removed: Tombstone[];
  /** internal (twin-to-twin) messages not yet applied: they exist nowhere else */
  pending: LogRecord[];
  /** every log record and tombstone below this position may be dropped */
  truncateBelow: number;
  /** the next position the engine will hand out */
  nextPos: number;
}

/** The end of a checkpoint: everything but the twins, which were added before. */
export type CheckpointMeta = Omit<Checkpoint, 'twins' | 'encoded'>;

/**
 * A checkpoint written in parts: the engine adds twins as it encodes them, over many event-loop
 * turns, then commits; the store makes the whole of it durable atomically at `commit`.
 */
export interface CheckpointWriter {
  add(twins: (EncodedTwin | StoredTwin)[]): void;
  commit(meta: CheckpointMeta): Promise<void>;
  /** the round failed before commit: forget what was added */
  abort?(): void;
}

/** A small durable key/value table (alerts, command queues, per-model shared data). */
export interface DurableTable<V> {
  get(key: string): V | undefined;
  put(key: string, value: V): void;
  delete(key: string): void;
  /** entries whose key starts with `prefix`, in key order */
  entries(prefix?: string): Iterable<[string, V]>;
}

export interface TwinStore {
  readonly kind: string;
  open(): Promise<void>;
  /**
   * Append one log record; resolves once it is durable. Throws synchronously when the record
   * cannot be encoded (the engine refuses that batch alone instead of failing the store).
   */
  append(record: LogRecord): Promise<void>;
  /**
   * Optional: encode one twin now. When offered, the engine encodes changed twins in small slices
   * between other work and hands the results to `checkpoint` as `encoded`, so a large checkpoint
   * never stalls ingest; the final slice runs synchronously so the checkpoint is a consistent cut.
   */
  encodeTwin?(twin: StoredTwin): Uint8Array;
  /** Log records at or after `fromPos`, in order. */
  readLog(fromPos: number): AsyncIterable<LogRecord>;
  /**
   * Write a checkpoint atomically; resolves once durable. Implementations must serialize the
   * twins' state synchronously, before returning: the engine goes on mutating live state.
   * Removals apply before twin writes (a twin may be removed and created anew between checkpoints).
   */
  checkpoint(cp: Checkpoint): Promise<void>;
  /**
   * Optional: start a checkpoint written in parts (see CheckpointWriter). Stores without it get
   * the whole round in one `checkpoint` call at its end.
   */
  beginCheckpoint?(): CheckpointWriter;
  loadTwins(): AsyncIterable<StoredTwin>;
  loadTombstones(): Promise<Tombstone[]>;
  /** Meta of the last checkpoint (nextPos, truncateBelow), or undefined on an empty store. */
  loadMeta(): Promise<{ nextPos: number; truncateBelow: number } | undefined>;
  /** Resolves once every write issued so far is durable. */
  flushed(): Promise<void>;
  table<V>(name: string): DurableTable<V>;
  close(): Promise<void>;
}
