/**
 * Which nodes are in the cluster. Each node puts its entry in the nodes bucket every heartbeat;
 * a node whose entry has not changed for `ttlMs` (as seen here) is dead. A node whose own
 * heartbeat has not succeeded for `fenceMs` must assume the others consider it dead.
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
}

export interface MembershipOptions {
  heartbeatMs: number;
  ttlMs: number;
}

export class Membership {
  private readonly mirror: KvMirror<NodeInfo>;
  private readonly key: string;
  private timer: NodeJS.Timeout | null = null;
  private lastOk = 0;
  private info: NodeInfo;
  private beating: Promise<void> | null = null;

  constructor(
    private readonly kv: KV,
    self: NodeInfo,
    private readonly opts: MembershipOptions,
    onChange: () => void,
    private readonly log: Logger,
  ) {
    this.info = self;
    this.key = safeToken(self.id);
    this.mirror = new KvMirror<NodeInfo>(kv, (b) => JSON.parse(new TextDecoder().decode(b)) as NodeInfo, onChange, log);
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
    this.beating ??= this.kv
      .put(this.key, JSON.stringify(this.info))
      .then(
        () => void (this.lastOk = Date.now()),
        (err) => this.log.debug({ err }, 'heartbeat failed'),
      )
      .finally(() => (this.beating = null));
    return this.beating;
  }

  /** True while this node's heartbeats reach the cluster often enough that nobody considers it dead. */
  get healthy(): boolean {
    return Date.now() - this.lastOk < this.opts.ttlMs - this.opts.heartbeatMs;
  }

  isAlive(id: string): boolean {
    if (id === this.info.id) return this.healthy;
    const e = this.mirror.entries.get(safeToken(id));
    return !!e && Date.now() - e.seenAt < this.opts.ttlMs;
  }

  /** Live nodes that take partitions (not draining), by id. */
  members(): string[] {
    const out: string[] = [];
    for (const e of this.mirror.entries.values()) {
      if (e.value.draining) continue;
      if (e.value.id === this.info.id ? this.healthy && !this.info.draining : Date.now() - e.seenAt < this.opts.ttlMs) out.push(e.value.id);
    }
    if (!out.includes(this.info.id) && this.healthy && !this.info.draining) out.push(this.info.id);
    return out.sort();
  }

  /** Every known node with its liveness, for status pages. */
  nodes(): (NodeInfo & { alive: boolean })[] {
    return [...this.mirror.entries.values()].map((e) => ({ ...e.value, alive: this.isAlive(e.value.id) })).sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  /** After a reconnect: nobody could heartbeat while NATS was away, so judge liveness afresh. */
  async resync(): Promise<void> {
    this.mirror.touchAll();
    await this.beat();
    await this.mirror.start();
    this.mirror.touchAll();
  }

  async setDraining(): Promise<void> {
    this.info = { ...this.info, draining: true };
    await this.beat();
  }

  /** Leave for good: stop heartbeats and delete this node's entry. */
  async leave(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.mirror.stop();
    await this.beating;
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
