/**
 * The control loop that decides which partitions this node runs. Every node computes the same
 * target (assignment.ts) from the live members and moves toward it:
 *
 * - a partition targeted here whose lease is free (never taken, released, or held by a dead node)
 *   is leased (revision-checked) and started;
 * - a partition running here whose target is another live node is handed over: drained,
 *   checkpointed, then its lease released for the target to take;
 * - a partition whose lease another node took, or whose engine failed, is abandoned at once
 *   (a node cut off from NATS long enough to be declared dead learns this when it reconnects; its
 *   checkpoints were refused meanwhile, since the new owner claimed the partition's state).
 */
import type { Logger } from 'pino';
import { PARTITIONS } from '@hextwin/shared';
import { targetOwners } from './assignment.js';
import type { LeaseTable } from './leases.js';
import type { Membership } from './membership.js';
import type { RunnerState } from './partition-runner.js';

export interface OwnershipHost {
  connected(): boolean;
  runnerState(p: number): RunnerState | undefined;
  runnerEpoch(p: number): number | undefined;
  runnerFailed(p: number): boolean;
  /** lease taken with `epoch`: create and start the partition's runner */
  startRunner(p: number, epoch: number): Promise<void>;
  stopRunner(p: number, graceful: boolean): Promise<void>;
  onMoved(kind: 'acquired' | 'handedOver' | 'lost', p: number): void;
}

export interface OwnershipOptions {
  /** partitions starting at once */
  maxStarts: number;
  /** partitions being handed over at once */
  maxHandovers: number;
  intervalMs: number;
}

export class Ownership {
  private readonly busy = new Set<number>();
  private starts = 0;
  private handovers = 0;
  private timer: NodeJS.Timeout | null = null;
  private kicked = false;
  private draining = false;
  private stopped = false;
  private idleWaiters: (() => void)[] = [];
  /** free partitions targeted here that the last reconcile could not start yet (too many starting) */
  private waiting = 0;

  constructor(
    private readonly self: string,
    private readonly membership: Membership,
    private readonly leases: LeaseTable,
    private readonly host: OwnershipHost,
    private readonly opts: OwnershipOptions,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.reconcile(), this.opts.intervalMs);
    this.timer.unref();
    this.reconcile();
  }

  /** Reconcile soon (a lease or a member changed). */
  kick(): void {
    if (this.kicked || this.stopped) return;
    this.kicked = true;
    setImmediate(() => {
      this.kicked = false;
      this.reconcile();
    });
  }

  /** Resolves once no partition is starting or stopping and none that is free and targeted here waits to start. */
  settled(): Promise<void> {
    if (!this.busy.size && !this.waiting) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private notifySettled(): void {
    if (this.busy.size || this.waiting || !this.idleWaiters.length) return;
    const w = this.idleWaiters;
    this.idleWaiters = [];
    for (const r of w) r();
  }

  /** Hand every partition over and take none. */
  drain(): void {
    this.draining = true;
    this.reconcile();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
  }

  private task(p: number, fn: () => Promise<void>): void {
    this.busy.add(p);
    void fn()
      .catch((err) => this.log.warn({ err, partition: p }, 'partition move failed; will retry'))
      .finally(() => {
        this.busy.delete(p);
        this.notifySettled();
        this.kick();
      });
  }

  private reconcile(): void {
    if (this.stopped || !this.host.connected()) return;
    const { membership, leases, host, self } = this;
    // A node cut off for a while is not fenced here: if others took its partitions meanwhile, the
    // lease watch shows it on reconnect (and its checkpoints are refused), and it stops them then.
    const target = targetOwners(membership.members());
    let waiting = 0;
    for (let p = 0; p < PARTITIONS; p++) {
      if (this.busy.has(p)) continue;
      const lease = leases.get(p);
      const st = host.runnerState(p);
      if (st && st !== 'stopped') {
        const epoch = host.runnerEpoch(p)!;
        if (host.runnerFailed(p)) {
          this.task(p, async () => {
            await host.stopRunner(p, false);
            if (leases.get(p)?.owner === self) await leases.release(p, leases.get(p)!.revision);
            host.onMoved('lost', p);
          });
        } else if (lease && lease.owner !== self) {
          this.log.warn({ partition: p, owner: lease.owner }, 'another node took the partition: stopping without a checkpoint');
          this.task(p, async () => {
            await host.stopRunner(p, false);
            host.onMoved('lost', p);
          });
        } else if (
          st === 'running' &&
          (this.draining || (target[p] && target[p] !== self && membership.isAlive(target[p]!))) &&
          this.handovers < this.opts.maxHandovers
        ) {
          this.handovers++;
          this.task(p, async () => {
            try {
              await host.stopRunner(p, true);
              const cur = leases.get(p);
              await leases.release(p, cur && cur.owner === self ? cur.revision : epoch);
              host.onMoved('handedOver', p);
            } finally {
              this.handovers--;
            }
          });
        }
        continue;
      }
      if (this.draining || target[p] !== self) continue;
      const free = !lease || lease.owner === '' || lease.owner === self || !membership.isAlive(lease.owner);
      if (!free) continue;
      if (this.starts >= this.opts.maxStarts) {
        waiting++;
        continue;
      }
      this.starts++;
      this.task(p, async () => {
        try {
          const epoch = await leases.acquire(p);
          if (epoch === null) return;
          try {
            await host.startRunner(p, epoch);
            host.onMoved('acquired', p);
          } catch (err) {
            await host.stopRunner(p, false).catch(() => undefined);
            await leases.release(p, epoch);
            throw err;
          }
        } finally {
          this.starts--;
        }
      });
    }
    this.waiting = waiting;
    this.notifySettled();
  }
}
