/**
 * The fan-out of what owners do, so that every node's subscribers and reads see every twin: each
 * owner publishes, per partition, a numbered sequence of events (twin changes — conflated to the
 * latest state per flush —, removals, alerts, acknowledgements, commands). Numbers start again
 * with each owner's epoch, so a receiver notices a new owner or a gap and fetches a snapshot.
 */
import type { AlertRecord, CommandRecord, SourceRef, TwinError, TwinView } from '../engine/types.js';
import { pack } from './codec.js';
import type { Transport } from './transport.js';

/** A twin's view as it travels. */
export interface TwinSnap {
  m: string;
  i: string;
  s: unknown;
  la: number | null;
  ln: number | null;
  c: number;
  u: number;
  v: number;
  e: TwinError | null;
}

export type PartEvent =
  | ['t', TwinSnap, 0 | 1]
  | ['r', string, string]
  | ['a', AlertRecord]
  | ['k', string]
  | ['c', CommandRecord, SourceRef | null]
  | ['x', string, string, string[] | null];

/** One partition's events: numbered from `from`, under the owner's `epoch`. */
export type PartSection = [partition: number, epoch: number, from: number, events: PartEvent[]];

/** One published message: the node, then its sections, each packed on its own. */
export type EventBatch = [node: string, sections: Uint8Array[]];

export function snapOf(t: TwinView): TwinSnap {
  return { m: t.model, i: t.id, s: t.state, la: t.lat ?? null, ln: t.lng ?? null, c: t.createdAt, u: t.updatedAt, v: t.version, e: t.lastError };
}

type Pending = { twin: TwinView; created: boolean } | PartEvent;

interface Outgoing {
  epoch: number;
  seq: number;
  events: Pending[];
  twins: Set<TwinView>;
}

const SECTION_EVENTS = 256;

/** Collects the events of this node's partitions and publishes them once per turn. */
export class EventFanout {
  private parts = new Map<number, Outgoing>();
  private dirty = new Set<number>();
  private scheduled = false;
  private lastFlush = 0;

  constructor(
    private readonly transport: Transport,
    private readonly subject: string,
    private readonly node: string,
    private readonly maxBytes: number,
    private readonly onError: (e: unknown) => void,
    private readonly minIntervalMs = 25,
  ) {}

  /** Start numbering a partition this node now owns, and tell everyone (an empty section). */
  register(p: number, epoch: number): void {
    this.parts.set(p, { epoch, seq: 0, events: [], twins: new Set() });
    this.mark(p);
  }

  unregister(p: number): void {
    this.parts.delete(p);
    this.dirty.delete(p);
  }

  twinChanged(p: number, twin: TwinView, created: boolean): void {
    const o = this.parts.get(p);
    if (!o) return;
    // conflation: the twin is read when the batch is encoded, so one entry carries its latest state
    if (o.twins.has(twin)) return;
    o.twins.add(twin);
    o.events.push({ twin, created });
    this.mark(p);
  }

  event(p: number, e: PartEvent): void {
    const o = this.parts.get(p);
    if (!o) return;
    o.events.push(e);
    this.mark(p);
  }

  private mark(p: number): void {
    this.dirty.add(p);
    if (this.scheduled) return;
    this.scheduled = true;
    // at once when quiet; under load at most every minIntervalMs, so a busy twin's changes conflate
    const wait = this.lastFlush + this.minIntervalMs - performance.now();
    if (wait <= 0) setImmediate(this.flushNow);
    else setTimeout(this.flushNow, wait).unref();
  }

  private readonly flushNow = (): void => this.flush();

  /** Encode and publish everything collected; safe to call any time. */
  flush(): void {
    this.scheduled = false;
    this.lastFlush = performance.now();
    if (!this.dirty.size) return;
    const sections: PartSection[] = [];
    for (const p of this.dirty) {
      const o = this.parts.get(p);
      if (!o) continue;
      const events: PartEvent[] = o.events.map((e) => (Array.isArray(e) ? e : (['t', snapOf(e.twin), e.created ? 1 : 0] as PartEvent)));
      o.events = [];
      o.twins.clear();
      if (!events.length) sections.push([p, o.epoch, o.seq + 1, []]);
      for (let i = 0; i < events.length; i += SECTION_EVENTS) {
        const slice = events.slice(i, i + SECTION_EVENTS);
        sections.push([p, o.epoch, o.seq + 1, slice]);
        o.seq += slice.length;
      }
    }
    this.dirty.clear();
    // group sections into messages below the size limit
    let batch: Uint8Array[] = [];
    let size = 0;
    const send = () => {
      if (!batch.length) return;
      try {
        this.transport.publish(this.subject, pack([this.node, batch] satisfies EventBatch));
      } catch (e) {
        this.onError(e);
      }
      batch = [];
      size = 0;
    };
    for (const s of sections) {
      const b = pack(s);
      if (size + b.length > this.maxBytes) send();
      batch.push(b);
      size += b.length;
    }
    send();
  }

  /** Where a partition's numbering stands (for snapshots). */
  position(p: number): { epoch: number; seq: number } | undefined {
    const o = this.parts.get(p);
    return o && { epoch: o.epoch, seq: o.seq };
  }
}
