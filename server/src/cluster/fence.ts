/**
 * Keeps a node that may have lost its partitions from acting as their owner.
 *
 * Other nodes judge this node by its heartbeats: the earliest they can declare it dead is about
 * three heartbeat intervals after its last heartbeat reached JetStream (two missed beats, then two
 * "no responders" probes), the latest the TTL. So once this node's last successful heartbeat is
 * older than `limitMs` (two heartbeat intervals, well inside the TTL) — NATS unreachable, or
 * JetStream refusing its writes — it holds every partition it runs: timers wait, alerts and
 * commands (and so webhooks and device commands) are kept back, writes aimed at its twins are
 * refused. Nothing is lost by holding: when the partition moved meanwhile, its new owner replays
 * from the last checkpoint and raises those effects itself.
 *
 * It lets go only once heartbeats go through again AND each held partition's lease, read from
 * the KV bucket itself (not this node's copy of it), still names this node at the epoch the runner
 * started with. A partition whose lease moved is marked lost and stopped without a checkpoint.
 */
import type { Logger } from 'pino';

export interface FencedRunner {
  readonly partition: number;
  readonly epoch: number;
  readonly held: boolean;
  leaseLost: boolean;
  hold(): void;
  release(): void;
}

export interface FenceHost {
  /** ms since this node's last heartbeat reached JetStream */
  sinceHeartbeat(): number;
  connected(): boolean;
  runners(): Iterable<FencedRunner>;
  /** the lease of partition p as the KV bucket has it now (undefined: no entry) */
  readLease(p: number): Promise<{ owner: string; revision: number } | undefined>;
  /** the node stopped (true) or resumed (false) acting as owner */
  onChange(fenced: boolean): void;
  /** a held partition's lease moved to another node */
  onLost(p: number): void;
}

export interface FenceOptions {
  self: string;
  /** hold once the last heartbeat is older than this */
  limitMs: number;
  /** a heartbeat this recent counts as "heartbeats go through again" */
  freshMs: number;
  checkMs: number;
}

export class OwnerFence {
  private timer: NodeJS.Timeout | null = null;
  private fencedSince = 0;
  private verifying = false;

  constructor(
    private readonly host: FenceHost,
    private readonly o: FenceOptions,
    private readonly log: Logger,
  ) {}

  /** Whether this node currently holds its partitions. */
  get fenced(): boolean {
    return this.fencedSince > 0;
  }

  /** When the node last stopped acting as owner (ms since the epoch), 0 while it acts. */
  get since(): number {
    return this.fencedSince;
  }

  start(): void {
    this.timer = setInterval(() => this.check(), this.o.checkMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Hold partitions that start while fenced too. */
  adopt(r: FencedRunner): void {
    if (this.fenced) r.hold();
  }

  check(): void {
    const since = this.host.sinceHeartbeat();
    if (!this.fenced) {
      if (since <= this.o.limitMs) return;
      this.fencedSince = Date.now();
      for (const r of this.host.runners()) r.hold();
      this.log.warn(
        { sinceHeartbeatMs: since },
        'heartbeats are not reaching NATS: holding every partition (no timers, alerts or commands) until the leases are confirmed',
      );
      this.host.onChange(true);
      return;
    }
    if (this.verifying || !this.host.connected() || since > this.o.freshMs) return;
    this.verifying = true;
    void this.confirm()
      .catch((err) => this.log.debug({ err }, 'confirming leases failed; retrying'))
      .finally(() => (this.verifying = false));
  }

  private async confirm(): Promise<void> {
    const held = [...this.host.runners()].filter((r) => r.held && !r.leaseLost);
    const leases = await Promise.all(held.map((r) => this.host.readLease(r.partition)));
    // a heartbeat failed again meanwhile: what we read may already be stale
    if (this.host.sinceHeartbeat() > this.o.limitMs) return;
    let lost = 0;
    held.forEach((r, i) => {
      const l = leases[i];
      if (l && l.owner === this.o.self && l.revision === r.epoch) r.release();
      else {
        r.leaseLost = true;
        lost++;
        this.host.onLost(r.partition);
      }
    });
    const ms = Date.now() - this.fencedSince;
    this.fencedSince = 0;
    // runners that started meanwhile were held too
    for (const r of this.host.runners()) if (r.held && !r.leaseLost) r.release();
    this.log.info({ confirmed: held.length - lost, lost, heldMs: ms }, 'heartbeats go through again: acting as owner of the confirmed partitions');
    this.host.onChange(false);
  }
}
