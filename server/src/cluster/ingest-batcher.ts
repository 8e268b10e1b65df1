/**
 * Accepting device messages in the cluster: envelopes from every ingest call are grouped by
 * partition, and each partition's waiting envelopes go to JetStream as ONE message, acknowledged
 * by the server before any caller's promise resolves. One publish per partition is in flight at a
 * time (that keeps a partition's messages in order), and at most `maxInFlight` publishes overall:
 * whatever arrives meanwhile waits and rides the next message of its partition, so messages grow
 * with load the way a group commit does, instead of the publish count growing with it.
 */
import { HextwinError, partition as partitionOf, PARTITIONS } from '@hextwin/shared';
import type { Envelope, SourceRef } from '../engine/types.js';
import { encodeRecord, type WireGroup } from './codec.js';
import type { ClusterNames } from './names.js';
import type { JsPublisher } from './js-publisher.js';

interface Waiter {
  resolve(): void;
  reject(e: unknown): void;
  /** partitions of this call still unacknowledged */
  left: number;
  failed: boolean;
}

interface PartitionQueue {
  groups: WireGroup[];
  waiters: Waiter[];
  count: number;
  busy: boolean;
}

export interface BatcherOptions {
  /** envelopes accepted but not yet acknowledged by JetStream, before callers are told OVERLOADED */
  maxPending: number;
  /** most envelopes in one JetStream message */
  maxBatch: number;
  /** most bytes in one JetStream message (below the server's max_payload) */
  maxBytes: number;
  /** JetStream publishes awaiting their acknowledgement, over all partitions */
  maxInFlight: number;
  /** ms to wait for JetStream's acknowledgement */
  timeoutMs: number;
  connected: () => boolean;
  /** called after each stored message with its envelope count */
  onStored?: (envelopes: number) => void;
}

export class IngestBatcher {
  private readonly queues: PartitionQueue[] = Array.from({ length: PARTITIONS }, () => ({ groups: [], waiters: [], count: 0, busy: false }));
  private pending = 0;
  private acceptWaiters: (() => void)[] = [];
  private closed = false;
  /** partitions with envelopes waiting for a publish slot, in arrival order */
  private ready: number[] = [];
  private publishing = 0;
  private scheduled = false;

  constructor(
    private readonly publisher: JsPublisher,
    private readonly names: ClusterNames,
    private readonly o: BatcherOptions,
  ) {}

  get overloaded(): boolean {
    return this.pending >= this.o.maxPending;
  }

  /** Envelopes accepted and waiting for JetStream. */
  get inFlight(): number {
    return this.pending;
  }

  whenAccepting(): Promise<void> {
    if (!this.overloaded) return Promise.resolve();
    return new Promise((r) => this.acceptWaiters.push(r));
  }

  /** Resolves once every envelope is stored in its partition's log; rejects (for all of them) otherwise. */
  submit(envelopes: Envelope[], source: SourceRef | null): Promise<void> {
    if (this.closed) return Promise.reject(new HextwinError('SHUTTING_DOWN'));
    if (!this.o.connected()) return Promise.reject(new HextwinError('CLUSTER_UNAVAILABLE', 'NATS is unreachable; retry shortly'));
    if (this.overloaded) return Promise.reject(new HextwinError('OVERLOADED', `${this.pending} messages are waiting for JetStream; retry later`));
    if (!envelopes.length) return Promise.resolve();
    // split by partition, keeping each partition's envelopes in call order
    const byPart = new Map<number, Envelope[]>();
    for (const e of envelopes) {
      const p = partitionOf(e.model, e.id);
      let l = byPart.get(p);
      if (!l) byPart.set(p, (l = []));
      l.push(e);
    }
    this.pending += envelopes.length;
    return new Promise<void>((resolve, reject) => {
      const w: Waiter = { resolve, reject, left: byPart.size, failed: false };
      for (const [p, list] of byPart) {
        const q = this.queues[p]!;
        q.groups.push({ source, envelopes: list });
        q.count += list.length;
        q.waiters.push(w);
        if (!q.busy) {
          q.busy = true;
          this.ready.push(p);
        }
      }
      if (!this.scheduled) {
        this.scheduled = true;
        // collect whatever else arrives in this turn before publishing
        setImmediate(this.pump);
      }
    });
  }

  /** Start publishes for waiting partitions while slots are free. */
  private readonly pump = (): void => {
    this.scheduled = false;
    while (this.publishing < this.o.maxInFlight && this.ready.length) {
      const p = this.ready.shift()!;
      this.publishing++;
      void this.flush(p).finally(() => {
        this.publishing--;
        const q = this.queues[p]!;
        if (q.groups.length) this.ready.push(p);
        else q.busy = false;
        if (!this.scheduled) {
          this.scheduled = true;
          setImmediate(this.pump);
        }
      });
    }
  };

  private async flush(p: number): Promise<void> {
    const q = this.queues[p]!;
    if (!q.groups.length) return;
    // take at most maxBatch envelopes (whole groups; a larger single group goes alone)
    let take = 0;
    let n = 0;
    while (take < q.groups.length && (n === 0 || n + q.groups[take]!.envelopes.length <= this.o.maxBatch)) n += q.groups[take++]!.envelopes.length;
    // and at most maxBytes encoded: halve until it fits (one group alone goes as it is)
    let bytes = encodeRecord({ groups: q.groups.slice(0, take) });
    while (bytes.length > this.o.maxBytes && take > 1) {
      take = Math.ceil(take / 2);
      bytes = encodeRecord({ groups: q.groups.slice(0, take) });
    }
    const groups = q.groups.splice(0, take);
    n = 0;
    for (const g of groups) n += g.envelopes.length;
    // each call contributed one group to this partition, with its waiter at the same index
    const waiters = q.waiters.splice(0, take);
    q.count -= n;
    let err: unknown = null;
    try {
      await this.publisher.publish(this.names.logSubject(p), bytes, { timeoutMs: this.o.timeoutMs });
      this.o.onStored?.(n);
    } catch (e) {
      err =
        e instanceof HextwinError ? e : new HextwinError('CLUSTER_UNAVAILABLE', `JetStream did not store the messages: ${(e as Error).message}`, { cause: e });
    }
    this.pending -= n;
    for (const w of waiters) {
      if (err) {
        if (!w.failed) {
          w.failed = true;
          w.reject(err);
        }
      } else if (--w.left === 0 && !w.failed) w.resolve();
    }
    if (this.acceptWaiters.length && this.pending < this.o.maxPending * 0.8) {
      const list = this.acceptWaiters;
      this.acceptWaiters = [];
      for (const r of list) r();
    }
  }

  /** Refuse new calls; resolves once everything accepted so far is stored (or failed). */
  async close(): Promise<void> {
    this.closed = true;
    while (this.queues.some((q) => q.busy)) await new Promise((r) => setTimeout(r, 5));
  }
}
