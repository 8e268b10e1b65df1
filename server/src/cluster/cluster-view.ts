/**
 * A node's copy of the partitions other nodes own: their twins' latest views, pending device
 * commands, and (through `ViewEvents`) their alerts. Fed by the owners' event fan-out; a new
 * owner (a higher epoch), a gap in the numbering or a node's start makes it fetch a snapshot of
 * that partition from its owner, then apply the events that came after it.
 */
import { PARTITIONS } from '@hextwin/shared';
import type { Logger } from 'pino';
import type { AlertRecord, CommandRecord, SourceRef, TwinError, TwinView } from '../engine/types.js';
import { MAX_COMMANDS_PER_TWIN } from '../engine/command-queue.js';
import { unpack } from './codec.js';
import type { EventBatch, PartEvent, PartSection, TwinSnap } from './events.js';

/** What a view tells the node about other nodes' partitions. */
export interface ViewEvents {
  twinChanged(twin: TwinView, created: boolean): void;
  twinRemoved(model: string, id: string, last: TwinView): void;
  /** `live` is false for alerts learnt from a snapshot (history, not news) */
  alert(a: AlertRecord, live: boolean): void;
  alertAcknowledged(id: string): void;
  command(record: CommandRecord, source: SourceRef | null): void;
}

/** A partition as its owner sees it at one point of its event numbering. */
export interface Snapshot {
  epoch: number;
  seq: number;
  twins: TwinSnap[];
  alerts: AlertRecord[];
  commands: CommandRecord[];
}

export class RemoteTwin implements TwinView {
  state: unknown;
  lat: number | undefined;
  lng: number | undefined;
  createdAt: number;
  updatedAt: number;
  version: number;
  lastError: TwinError | null;
  constructor(
    readonly model: string,
    readonly id: string,
    s: TwinSnap,
  ) {
    this.state = s.s;
    this.lat = s.la ?? undefined;
    this.lng = s.ln ?? undefined;
    this.createdAt = s.c;
    this.updatedAt = s.u;
    this.version = s.v;
    this.lastError = s.e;
  }
  assign(s: TwinSnap): void {
    this.state = s.s;
    this.lat = s.la ?? undefined;
    this.lng = s.ln ?? undefined;
    this.createdAt = s.c;
    this.updatedAt = s.u;
    this.version = s.v;
    this.lastError = s.e;
  }
}

class PartView {
  epoch = 0;
  seq = 0;
  /** owned by this node: the engine answers, the view holds nothing */
  local = false;
  synced = false;
  syncing = false;
  buffered: PartSection[] = [];
  retryTimer: NodeJS.Timeout | null = null;
  twins = new Map<string, Map<string, RemoteTwin>>();
  commands = new Map<string, CommandRecord[]>();
}

const MAX_BUFFERED = 10_000;
const MAX_SYNCS = 16;

export class ClusterView {
  private readonly parts: PartView[] = Array.from({ length: PARTITIONS }, () => new PartView());
  private closed = false;
  private syncs = 0;
  private syncWaiters: (() => void)[] = [];

  constructor(
    private readonly self: string,
    private readonly events: ViewEvents,
    private readonly fetchSnapshot: (p: number) => Promise<Snapshot>,
    private readonly log: Logger,
  ) {}

  /** A message from some node's fan-out. */
  onBatch(data: Uint8Array): void {
    let batch: EventBatch;
    try {
      batch = unpack<EventBatch>(data);
    } catch (err) {
      this.log.warn({ err }, 'ignoring an unreadable event batch');
      return;
    }
    if (batch[0] === this.self) return;
    for (const raw of batch[1]) this.onSection(unpack<PartSection>(raw));
  }

  private onSection(s: PartSection, afterSnapshot = false): void {
    const [p, epoch, from, events] = s;
    const pv = this.parts[p];
    if (!pv || pv.local || epoch < pv.epoch) return;
    if (pv.syncing) {
      if (pv.buffered.length < MAX_BUFFERED) pv.buffered.push(s);
      return;
    }
    if (epoch > pv.epoch || from > pv.seq + 1) {
      pv.buffered.push(s);
      // right after a snapshot that did not cover the gap, wait a little before asking again
      if (afterSnapshot) this.syncLater(p);
      else this.sync(p);
      return;
    }
    const skip = pv.seq + 1 - from;
    for (let i = Math.max(0, skip); i < events.length; i++) this.apply(pv, events[i]!);
    pv.seq = Math.max(pv.seq, from + events.length - 1);
  }

  private apply(pv: PartView, e: PartEvent): void {
    switch (e[0]) {
      case 't': {
        const s = e[1];
        let byId = pv.twins.get(s.m);
        if (!byId) pv.twins.set(s.m, (byId = new Map()));
        let t = byId.get(s.i);
        if (t) t.assign(s);
        else byId.set(s.i, (t = new RemoteTwin(s.m, s.i, s)));
        this.events.twinChanged(t, e[2] === 1);
        break;
      }
      case 'r': {
        const t = pv.twins.get(e[1])?.get(e[2]);
        if (!t) break;
        pv.twins.get(e[1])!.delete(e[2]);
        pv.commands.delete(e[1] + '/' + e[2]);
        this.events.twinRemoved(e[1], e[2], t);
        break;
      }
      case 'a':
        this.events.alert(e[1], true);
        break;
      case 'k':
        this.events.alertAcknowledged(e[1]);
        break;
      case 'c': {
        const r = e[1];
        const k = r.model + '/' + r.id;
        let l = pv.commands.get(k);
        if (!l) pv.commands.set(k, (l = []));
        l.push(r);
        if (l.length > MAX_COMMANDS_PER_TWIN) l.shift();
        this.events.command(r, e[2]);
        break;
      }
      case 'x': {
        const k = e[1] + '/' + e[2];
        const cids = e[3];
        if (!cids) pv.commands.delete(k);
        else {
          const drop = new Set(cids);
          const keep = (pv.commands.get(k) ?? []).filter((c) => !drop.has(c.cid));
          if (keep.length) pv.commands.set(k, keep);
          else pv.commands.delete(k);
        }
        break;
      }
    }
  }

  /** Fetch a snapshot of partition p (retrying while its owner is not serving yet), then catch up. */
  sync(p: number): void {
    const pv = this.parts[p]!;
    if (pv.syncing || pv.local || this.closed) return;
    pv.syncing = true;
    void (async () => {
      for (let attempt = 0; !this.closed && !pv.local; attempt++) {
        try {
          const snap = await this.limited(() => this.fetchSnapshot(p));
          if (pv.local) break;
          this.applySnapshot(pv, snap);
          pv.syncing = false;
          const later = pv.buffered;
          pv.buffered = [];
          for (const s of later) this.onSection(s, true);
          return;
        } catch (err) {
          if (attempt === 5) this.log.debug({ err, partition: p }, 'snapshot not available yet; still trying');
          await new Promise((r) => setTimeout(r, Math.min(2_000, 50 * 2 ** Math.min(attempt, 6))));
          if (attempt >= 40) break;
        }
      }
      pv.syncing = false;
      pv.buffered = [];
    })();
  }

  /** At most MAX_SYNCS snapshots in flight: a node starting asks for every partition at once. */
  private async limited<T>(fn: () => Promise<T>): Promise<T> {
    while (this.syncs >= MAX_SYNCS) await new Promise<void>((r) => this.syncWaiters.push(r));
    this.syncs++;
    try {
      return await fn();
    } finally {
      this.syncs--;
      this.syncWaiters.shift()?.();
    }
  }

  private syncLater(p: number): void {
    const pv = this.parts[p]!;
    if (pv.retryTimer || this.closed) return;
    pv.retryTimer = setTimeout(() => {
      pv.retryTimer = null;
      this.sync(p);
    }, 250);
    pv.retryTimer.unref();
  }

  private applySnapshot(pv: PartView, snap: Snapshot): void {
    const seen = new Set<string>();
    for (const s of snap.twins) {
      const k = s.m + '\u0000' + s.i;
      seen.add(k);
      let byId = pv.twins.get(s.m);
      if (!byId) pv.twins.set(s.m, (byId = new Map()));
      const t = byId.get(s.i);
      if (t && t.version === s.v && t.updatedAt === s.u) continue;
      if (t) t.assign(s);
      const tw = t ?? new RemoteTwin(s.m, s.i, s);
      if (!t) byId.set(s.i, tw);
      this.events.twinChanged(tw, !t);
    }
    for (const [m, byId] of pv.twins) {
      for (const [id, t] of byId) {
        if (seen.has(m + '\u0000' + id)) continue;
        byId.delete(id);
        this.events.twinRemoved(m, id, t);
      }
    }
    pv.commands.clear();
    for (const c of snap.commands) {
      const k = c.model + '/' + c.id;
      let l = pv.commands.get(k);
      if (!l) pv.commands.set(k, (l = []));
      l.push(c);
    }
    for (const a of snap.alerts) this.events.alert(a, false);
    pv.epoch = snap.epoch;
    pv.seq = snap.seq;
    pv.synced = true;
  }

  /**
   * This node now owns p: hand over what the view held (the caller compares it with the engine's
   * twins) and ignore p's events from now on.
   */
  takeLocal(p: number): Map<string, Map<string, RemoteTwin>> {
    const pv = this.parts[p]!;
    pv.local = true;
    pv.buffered = [];
    const twins = pv.twins;
    pv.twins = new Map();
    pv.commands.clear();
    return twins;
  }

  /** This node gave p up: keep serving its last twins until the next owner's snapshot arrives. */
  releaseLocal(p: number, epoch: number, twins: Iterable<TwinView>, commands: Iterable<CommandRecord>): void {
    const pv = this.parts[p]!;
    pv.local = false;
    pv.twins = new Map();
    for (const t of twins) {
      let byId = pv.twins.get(t.model);
      if (!byId) pv.twins.set(t.model, (byId = new Map()));
      byId.set(
        t.id,
        new RemoteTwin(t.model, t.id, {
          m: t.model,
          i: t.id,
          s: structuredClone(t.state),
          la: t.lat ?? null,
          ln: t.lng ?? null,
          c: t.createdAt,
          u: t.updatedAt,
          v: t.version,
          e: t.lastError,
        }),
      );
    }
    pv.commands.clear();
    for (const c of commands) {
      const k = c.model + '/' + c.id;
      let l = pv.commands.get(k);
      if (!l) pv.commands.set(k, (l = []));
      l.push(c);
    }
    // our own epoch: the next owner's announcement is newer and triggers a snapshot
    pv.epoch = epoch;
    pv.seq = Number.MAX_SAFE_INTEGER;
    pv.synced = false;
  }

  isLocal(p: number): boolean {
    return this.parts[p]!.local;
  }

  twin(p: number, model: string, id: string): RemoteTwin | undefined {
    return this.parts[p]!.twins.get(model)?.get(id);
  }

  *twins(model: string): Iterable<TwinView> {
    for (const pv of this.parts) {
      if (pv.local) continue;
      const byId = pv.twins.get(model);
      if (byId) yield* byId.values();
    }
  }

  count(model?: string): number {
    let n = 0;
    for (const pv of this.parts) {
      if (pv.local) continue;
      if (model !== undefined) n += pv.twins.get(model)?.size ?? 0;
      else for (const byId of pv.twins.values()) n += byId.size;
    }
    return n;
  }

  countsByModel(into: Map<string, number>): void {
    for (const pv of this.parts) {
      if (pv.local) continue;
      for (const [m, byId] of pv.twins) into.set(m, (into.get(m) ?? 0) + byId.size);
    }
  }

  pendingCommands(p: number, model: string, id: string): CommandRecord[] {
    return [...(this.parts[p]!.commands.get(model + '/' + id) ?? [])];
  }

  /** Partitions whose copy is current. */
  get syncedCount(): number {
    return this.parts.filter((pv) => pv.local || pv.synced).length;
  }

  isSynced(p: number): boolean {
    const pv = this.parts[p]!;
    return pv.local || pv.synced;
  }

  close(): void {
    this.closed = true;
  }
}
