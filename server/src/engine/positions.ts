/**
 * Log positions: every accepted envelope, twin-to-twin message and removal gets a unique,
 * increasing position. This file knows which positions are not applied yet, so the checkpointer
 * knows how far the write-ahead log may be truncated.
 */
import type { LogRecord } from '../store/store.js';
import type { LogRecordRef, MailItem } from './twin.js';
import type { Envelope, SourceRef } from './types.js';

/** A twin-to-twin message or removal not applied yet: it exists nowhere but here and in checkpoints. */
export interface InternalItem {
  envelope: Envelope;
  control?: 'remove';
  /** false: only for a twin that exists (SendOptions.create) */
  create?: false;
  hops: number;
  source: SourceRef | null;
}

export class LogPositions {
  nextPos = 1;
  /** log records with envelopes not yet applied, in position order */
  private recs: LogRecordRef[] = [];
  private head = 0;
  /** internal items not yet applied, by position (insertion order = position order) */
  readonly internal = new Map<number, InternalItem>();
  /** positions of internal items for twins hosted elsewhere, waiting for a checkpoint */
  outbox: number[] = [];

  /** Hand out `n` consecutive positions; returns the first. */
  take(n: number): number {
    const pos = this.nextPos;
    this.nextPos += Math.max(1, n);
    return pos;
  }

  /** Track a durable log record whose envelopes are about to be enqueued. */
  track(pos: number, remaining: number): LogRecordRef {
    const rec: LogRecordRef = { pos, remaining };
    this.recs.push(rec);
    return rec;
  }

  /** A twin-to-twin item gets its position and is held until applied (or forwarded). */
  addInternal(item: InternalItem): number {
    const pos = this.nextPos++;
    this.internal.set(pos, item);
    return pos;
  }

  /** The item at `pos` was applied (or can never be): it no longer holds the log back. */
  settle(item: { pos: number; rec?: LogRecordRef | null }): void {
    if (item.rec) item.rec.remaining--;
    else this.internal.delete(item.pos);
  }

  settleMail(item: MailItem): void {
    if (item.kind !== 'timer') this.settle(item);
  }

  /** The lowest log position some unapplied message still needs. */
  lowWater(): number {
    while (this.head < this.recs.length && this.recs[this.head]!.remaining <= 0) this.head++;
    if (this.head > 1024) {
      this.recs = this.recs.slice(this.head);
      this.head = 0;
    }
    let low = this.recs[this.head]?.pos ?? this.nextPos;
    for (const pos of this.internal.keys()) {
      if (pos < low) low = pos;
      break; // insertion order is position order
    }
    return low;
  }

  /** Internal items as log records, for a checkpoint. */
  internalRecords(positions?: Iterable<number>): LogRecord[] {
    const out: LogRecord[] = [];
    const add = (pos: number, p: InternalItem) =>
      out.push({
        pos,
        envelopes: [p.envelope],
        source: p.source,
        hops: Math.max(1, p.hops),
        ...(p.control ? { control: p.control } : {}),
        ...(p.create === false ? { create: false as const } : {}),
      });
    if (positions) {
      for (const pos of positions) {
        const p = this.internal.get(pos);
        if (p) add(pos, p);
      }
    } else for (const [pos, p] of this.internal) add(pos, p);
    return out;
  }
}
