/**
 * The sinks' durable queues: one LMDB environment of their own (DATA_DIR/sinks), one database per
 * sink whose keys are increasing sequence numbers, and one cursor per sink (the last sequence the
 * sink has taken). Events are appended in batches (one transaction per delivery cycle, on disk
 * before `append` resolves), read from the cursor, and removed once delivered, so a crash or a
 * restart re-delivers what was not yet acknowledged: at-least-once.
 *
 * Bounded: past `maxQueue` events the oldest are dropped (the queue keeps the newest, which for
 * state changes supersede the older ones) and `append` reports how many, for the dropped counter.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { open, type Database, type RootDatabase } from 'lmdb';
import type { SinkEvent } from './events.js';

interface Stored {
  /** epoch ms when queued (for the lag gauge) */
  at: number;
  e: SinkEvent;
}

export interface QueuedEvent {
  seq: number;
  at: number;
  event: SinkEvent;
}

export class SinkQueues {
  private readonly env: RootDatabase;
  private readonly cursors: Database<number, string>;
  private readonly queues = new Map<string, SinkQueue>();

  constructor(dir: string) {
    mkdirSync(dir, { recursive: true });
    this.env = open({ path: path.join(dir, 'sinks.lmdb'), maxDbs: 256, mapSize: 4 * 1024 ** 3, overlappingSync: true });
    this.cursors = this.env.openDB<number, string>({ name: 'cursors', encoding: 'msgpack' });
  }

  queue(name: string, maxQueue: number): SinkQueue {
    let q = this.queues.get(name);
    if (!q) {
      q = new SinkQueue(name, this.env.openDB<Stored, number>({ name: 'queue:' + name, keyEncoding: 'uint32', encoding: 'msgpack' }), this.cursors, maxQueue);
      this.queues.set(name, q);
    }
    return q;
  }

  /** Append to several queues in one transaction; resolves once it is on disk. */
  async appendAll(items: { queue: SinkQueue; events: SinkEvent[] }[], now: number): Promise<void> {
    const drops: (() => void)[] = [];
    await this.env.transaction(() => {
      for (const { queue, events } of items) drops.push(queue.appendInTxn(events, now));
    });
    await this.env.flushed;
    for (const d of drops) d();
  }

  async close(): Promise<void> {
    await this.env.close();
  }
}

export class SinkQueue {
  /** the last sequence handed out */
  private tail: number;
  /** the last sequence the sink has taken */
  private cursor: number;
  /** events dropped because the queue was full, not yet read by `takeDropped` */
  private dropped = 0;

  constructor(
    readonly name: string,
    private readonly db: Database<Stored, number>,
    private readonly cursors: Database<number, string>,
    private readonly maxQueue: number,
  ) {
    this.cursor = cursors.get(name) ?? 0;
    let last = this.cursor;
    for (const k of db.getKeys({ reverse: true, limit: 1 })) last = Math.max(last, k);
    this.tail = last;
  }

  get depth(): number {
    return this.tail - this.cursor;
  }

  /** Queued time of the oldest event not yet delivered (null when empty). */
  oldestAt(): number | null {
    for (const { value } of this.db.getRange({ start: this.cursor + 1, limit: 1 })) return value.at;
    return null;
  }

  /** Only inside SinkQueues' transaction; returns a commit hook that publishes the drop count. */
  appendInTxn(events: SinkEvent[], now: number): () => void {
    for (const e of events) this.db.putSync(++this.tail, { at: now, e });
    let dropped = 0;
    if (this.depth > this.maxQueue) {
      const to = this.tail - this.maxQueue;
      for (let s = this.cursor + 1; s <= to; s++) this.db.removeSync(s);
      dropped = to - this.cursor;
      this.cursor = to;
      this.cursors.putSync(this.name, this.cursor);
    }
    return () => void (this.dropped += dropped);
  }

  /** How many events were dropped for room since the last call. */
  takeDropped(): number {
    const n = this.dropped;
    this.dropped = 0;
    return n;
  }

  /** The oldest `limit` events not yet delivered, in order. */
  peek(limit: number): QueuedEvent[] {
    const out: QueuedEvent[] = [];
    for (const { key, value } of this.db.getRange({ start: this.cursor + 1, limit })) out.push({ seq: key, at: value.at, event: value.e });
    return out;
  }

  /** The sink has every event up to `seq`: move the cursor and forget them. */
  async ack(seq: number): Promise<void> {
    if (seq <= this.cursor) return;
    const from = this.cursor + 1;
    this.cursor = seq;
    await this.db.transaction(() => {
      for (let s = from; s <= seq; s++) this.db.removeSync(s);
      this.cursors.putSync(this.name, seq);
    });
  }
}
