/**
 * Which nodes are in the cluster. Each node puts its entry in the nodes bucket every heartbeat. A
 * node is dead when its entry has not changed for `ttlMs` here AND this node has meanwhile seen
 * its own heartbeats come back more than ttlMs / heartbeatMs times: a node whose own event loop
 * or connection stalls (so it sees nothing change) therefore never declares others dead for it.
 *
 * Sooner, for the common case of a process that died: once a node has missed two heartbeats, it is
 * asked whether it is there (`probe`); NATS answers "no responders" at once when its connection is
 * gone, and two such answers in a row make it dead without waiting for the TTL.
 */
import type { KV } from '@nats-io/kv';
import type { Logger } from 'pino';
import { KvMirror } from './kv-mirror.js';
import { safeToken } from './names.js';

export interface NodeInfo {
  id: string;
  /** HTTP address of the node, for operators */
  url: string;
  draining: boolean;
  startedAt: number;
  /** random per process: two processes heartbeating one node id show as two instances */
  instance?: string;
}

export interface MembershipOptions {
  heartbeatMs: number;
  ttlMs: number;
  /** ask a node whether it is there: 'gone' when nobody serves its subject, 'unknown' on a timeout */
  probe?: (id: string) => Promise<'alive' | 'gone' | 'unknown'>;
  /** another process heartbeats under this node's id */
  onConflict?: (other: NodeInfo) => void;
}

export class Membership {
  private readonly mirror: KvMirror<NodeInfo>;
  private readonly key: string;
  private timer: NodeJS.Timeout | null = null;
  private lastOk = 0;
  private info: NodeInfo;
  private beating: Promise<void> | null = null;
  /** own heartbeats seen come back through the watch: the clock liveness is judged by */
  private beats = 0;
  /** `beats` when each other node's entry last changed */
  private readonly beatsAt = new Map<string, number>();
  private beatsSeen = 0;
  private graceUntil = 0;
  /** 'gone' answers in a row to probes of a node, at the revision its entry had then */
  private readonly gone = new Map<string, { revision: number; count: number }>();
  private probing = new Set<string>();
  private beatsSeenAt = Date.now();

  constructor(
    private readonly kv: KV,
    self: NodeInfo,
    private readonly opts: MembershipOptions,
    private readonly onGone: () => void,
    private readonly log: Logger,
  ) {
    const onChange = onGone;
    this.info = self;
    this.key = safeToken(self.id);
    this.mirror = new KvMirror<NodeInfo>(
      kv,
      (b) => JSON.parse(new TextDecoder().decode(b)) as NodeInfo,
      (key) => {
        if (key === this.key) {
          this.beats++;
          const v = this.mirror.entries.get(key)?.value;
          if (v?.instance && this.info.instance && v.instance !== this.info.instance) this.opts.onConflict?.(v);
        } else this.beatsAt.set(key, this.beats);
        onChange();
      },
      log,
    );
  }

  get self(): string {
    return this.info.id;
  }

  async start(): Promise<void> {
    await this.beat();
    await this.mirror.start();
    this.timer = setInterval(() => void this.beat(), this.opts.heartbeatMs);
    this.timer.unref();
  }

  private beat(): Promise<void> {
    // our own heartbeats stopped coming back while puts succeed: the watch broke, restart it
    if (this.beats !== this.beatsSeen) {
      this.beatsSeen = this.beats;
      this.beatsSeenAt = Date.now();
    } else if (this.timer && Date.now() - this.beatsSeenAt > 3 * this.opts.ttlMs && Date.now() - this.lastOk < this.opts.ttlMs) {
      this.beatsSeenAt = Date.now();
      this.log.warn('the nodes watch went quiet; restarting it');
      void this.mirror.start().catch((err) => this.log.warn({ err }, 'restarting the nodes watch failed'));
    }
    this.probeLate();
    this.beating ??= this.kv
      .put(this.key, JSON.stringify(this.info))
      .then(
        () => void (this.lastOk = Date.now()),
        (err) => this.log.debug({ err }, 'heartbeat failed'),
      )
      .finally(() => (this.beating = null));
    return this.beating;
  }

  /** Probe every node that has missed two heartbeats (and is not yet known gone). */
  private probeLate(): void {
    const probe = this.opts.probe;
    if (!probe || Date.now() < this.graceUntil) return;
    for (const [key, e] of this.mirror.entries) {
      if (key === this.key || this.probing.has(key)) continue;
      const missed = this.beats - (this.beatsAt.get(key) ?? this.beats);
      if (missed < 2 || Date.now() - e.seenAt < 2 * this.opts.heartbeatMs) {
        this.gone.delete(key);
        continue;
      }
      this.probing.add(key);
      void probe(e.value.id)
        .then(
          (answer) => {
            const cur = this.mirror.entries.get(key);
            if (!cur || cur.revision !== e.revision || answer !== 'gone') return void this.gone.delete(key);
            const g = this.gone.get(key);
            this.gone.set(key, { revision: e.revision, count: g && g.revision === e.revision ? g.count + 1 : 1 });
            if (this.gone.get(key)!.count >= 2) this.onGone();
          },
          () => undefined,
        )
        .finally(() => this.probing.delete(key));
    }
  }

  /** ms since this node's last heartbeat reached JetStream. */
  get sinceHeartbeat(): number {
    return Date.now() - this.lastOk;
  }

  private aliveKey(key: string): boolean {
    const e = this.mirror.entries.get(key);
    if (!e) return false;
    // just back from a disconnect: everyone's heartbeats are recovering, nobody is judged yet
    if (Date.now() < this.graceUntil) return true;
    const gone = this.gone.get(key);
    if (gone && gone.revision === e.revision && gone.count >= 2) return false;
    if (Date.now() - e.seenAt < this.opts.ttlMs) return true;
    const missed = this.beats - (this.beatsAt.get(key) ?? this.beats);
    return missed <= Math.ceil(this.opts.ttlMs / this.opts.heartbeatMs);
  }

  isAlive(id: string): boolean {
    if (id === this.info.id) return true;
    return this.aliveKey(safeToken(id));
  }

  /** Live nodes that take partitions (not draining), by id; this node always counts unless it drains. */
  members(): string[] {
    const out: string[] = [];
    for (const [key, e] of this.mirror.entries) {
      if (e.value.draining || e.value.id === this.info.id) continue;
      if (this.aliveKey(key)) out.push(e.value.id);
    }
    if (!this.info.draining) out.push(this.info.id);
    return out.sort();
  }

  /** Every known node with its liveness, for status pages. */
  nodes(): (NodeInfo & { alive: boolean })[] {
    return [...this.mirror.entries.values()].map((e) => ({ ...e.value, alive: this.isAlive(e.value.id) })).sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  /** After a reconnect: nobody could heartbeat while NATS was away, so judge liveness afresh. */
  /** Judge nobody dead for a while (called as soon as a disconnect is noticed, and again on reconnect). */
  suspendJudgement(): void {
    this.graceUntil = Date.now() + 2 * this.opts.ttlMs;
  }

  async resync(): Promise<void> {
    this.suspendJudgement();
    const grace = () => {
      this.mirror.touchAll();
      for (const k of this.mirror.entries.keys()) this.beatsAt.set(k, this.beats);
    };
    grace();
    await this.beat();
    await this.mirror.start();
    grace();
    this.suspendJudgement();
  }

  /** Tell the others this node takes no partitions any more (a put of its own, not a heartbeat that may be stuck). */
  async setDraining(): Promise<void> {
    this.info = { ...this.info, draining: true };
    await this.kv.put(this.key, JSON.stringify(this.info));
  }

  /** Leave for good: stop heartbeats and delete this node's entry. */
  async leave(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.mirror.stop();
    await this.kv.delete(this.key).catch((err) => this.log.warn({ err }, 'could not remove the node entry'));
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.mirror.stop();
  }

  /** Drop entries of nodes dead for a long time, so the bucket does not grow with every crashed node. */
  async sweep(olderThanMs: number): Promise<void> {
    for (const [key, e] of this.mirror.entries) {
      if (e.value.id !== this.info.id && Date.now() - e.seenAt > olderThanMs) {
        await this.kv.delete(key, { previousSeq: e.revision }).catch(() => undefined);
      }
    }
  }
}
