/**
 * The scheduler: twins with work wait in one ready queue and run in slices of a few milliseconds,
 * so I/O (ingest, acks, queries) gets the event loop between slices. A twin is in the queue at
 * most once and never runs two batches at once; its whole mailbox is taken as one run.
 */
import type { MailItem, Twin } from './twin.js';

export class Scheduler {
  /** messages (and timer firings, removals) waiting in mailboxes */
  queued = 0;
  /** twins scheduled or running */
  private active = 0;
  private ready: Twin[] = [];
  private head = 0;
  private drainScheduled = false;
  private idleWaiters: (() => void)[] = [];
  private acceptWaiters: (() => void)[] = [];

  constructor(
    /** runs one twin's mailbox; must call `done(t)` when the run ends (at once, or after an async batch) */
    private readonly run: (t: Twin) => void,
    private readonly sliceMs: number,
    private readonly maxQueued: number,
  ) {}

  get overloaded(): boolean {
    return this.queued >= this.maxQueued;
  }

  /** The one way into a mailbox: push, count, schedule. */
  enqueue(t: Twin, item: MailItem): void {
    if (t.mailbox) t.mailbox.push(item);
    else t.mailbox = [item];
    this.queued++;
    if (!t.scheduled) this.schedule(t);
  }

  /** Take a twin's whole mailbox for a run. */
  take(t: Twin): MailItem[] {
    const items = t.mailbox!;
    t.mailbox = null;
    this.queued -= items.length;
    return items;
  }

  /** A twin's run ended: schedule it again if mail arrived meanwhile. */
  done(t: Twin): void {
    t.scheduled = false;
    this.active--;
    if (t.mailbox && !t.removed) this.schedule(t);
    if (this.active === 0) this.checkWaiters();
  }

  private schedule(t: Twin): void {
    t.scheduled = true;
    this.active++;
    this.ready.push(t);
    if (!this.drainScheduled) {
      this.drainScheduled = true;
      setImmediate(this.drain);
    }
  }

  private readonly drain = (): void => {
    this.drainScheduled = false;
    const deadline = performance.now() + this.sliceMs;
    let n = 0;
    while (this.head < this.ready.length) {
      const t = this.ready[this.head]!;
      this.ready[this.head++] = undefined as unknown as Twin;
      this.run(t);
      if ((++n & 15) === 0 && performance.now() > deadline) break;
    }
    if (this.head >= this.ready.length) {
      this.ready = [];
      this.head = 0;
    } else if (this.head > 65_536) {
      this.ready = this.ready.slice(this.head);
      this.head = 0;
    }
    if (this.head < this.ready.length && !this.drainScheduled) {
      this.drainScheduled = true;
      setImmediate(this.drain);
    }
    this.checkWaiters();
  };

  private checkWaiters(): void {
    if (this.acceptWaiters.length && this.queued < this.maxQueued * 0.8) {
      const w = this.acceptWaiters;
      this.acceptWaiters = [];
      for (const r of w) r();
    }
    if (this.active === 0 && this.idleWaiters.length) {
      const w = this.idleWaiters;
      this.idleWaiters = [];
      for (const r of w) r();
    }
  }

  /** Resolves when every mailbox is empty and no batch is running. */
  idle(): Promise<void> {
    if (this.active === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  /** Resolves when mailboxes are below the low-water mark. */
  whenAccepting(): Promise<void> {
    if (!this.overloaded) return Promise.resolve();
    return new Promise((r) => this.acceptWaiters.push(r));
  }
}
