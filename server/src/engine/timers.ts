/**
 * Twin timers on the engine clock: one indexed heap of deadlines for all twins, one wake-up armed
 * for the earliest. A firing is queued in the twin's mailbox like a message, so it runs in order
 * with them; a restarted timer moves its heap entry instead of leaving a stale one behind.
 */
import type { Clock } from './clock.js';
import type { Scheduler } from './scheduler.js';
import { TimerHeap } from './timer-heap.js';
import type { TimerState, Twin } from './twin.js';
import type { StoredTimer } from '../store/store.js';

export class TwinTimers {
  private readonly heap = new TimerHeap<Twin>();
  private wake: (() => void) | null = null;
  private wakeAt = Infinity;
  private stopped = false;

  constructor(
    private readonly clock: Clock,
    private readonly scheduler: Scheduler,
  ) {}

  /** Start (or restart) timer `name`, or stop it when `spec` is null. */
  set(t: Twin, name: string, spec: { ms: number; mode: 'once' | 'recurring' } | null): void {
    const old = t.timers?.get(name);
    if (spec === null) {
      if (old) {
        this.heap.remove(old.entry);
        t.timers!.delete(name);
      }
      return;
    }
    const due = this.clock.now() + spec.ms;
    const every = spec.mode === 'recurring' ? spec.ms : undefined;
    if (old) {
      old.gen++;
      old.due = due;
      old.every = every;
      this.heap.update(old.entry, due);
    } else {
      (t.timers ??= new Map()).set(name, { due, every, gen: 1, entry: this.heap.push(due, t, name) });
    }
    this.arm();
  }

  /** Timers restored from the store. */
  restore(t: Twin, stored: StoredTimer[]): void {
    t.timers = new Map();
    for (const tm of stored) t.timers.set(tm.name, { due: tm.due, every: tm.every, gen: 1, entry: this.heap.push(tm.due, t, tm.name) });
    this.arm();
  }

  /**
   * A queued firing reaches the twin's run: returns the timer if it is still current (not stopped
   * or restarted since), re-arming a recurring one and dropping a one-shot one.
   */
  take(t: Twin, name: string, gen: number): TimerState | undefined {
    const timer = t.timers?.get(name);
    if (!timer || timer.gen !== gen) return undefined;
    if (timer.every !== undefined) {
      const now = this.clock.now();
      timer.due += timer.every;
      if (timer.due <= now) timer.due = now + timer.every;
      this.heap.update(timer.entry, timer.due);
      this.arm();
    } else {
      this.heap.remove(timer.entry);
      t.timers!.delete(name);
    }
    return timer;
  }

  /** A removed twin's timers never fire. */
  drop(t: Twin): void {
    if (!t.timers) return;
    for (const tm of t.timers.values()) {
      tm.gen = -1;
      this.heap.remove(tm.entry);
    }
    t.timers = null;
  }

  /** Entries in the heap (one per live timer). */
  get size(): number {
    return this.heap.size;
  }

  stop(): void {
    this.stopped = true;
    this.wake?.();
    this.wake = null;
  }

  stored(t: Twin): StoredTimer[] | undefined {
    if (!t.timers) return undefined;
    return [...t.timers].map(([name, tm]) => ({ name, due: tm.due, ...(tm.every !== undefined ? { every: tm.every } : {}) }));
  }

  private arm(): void {
    const top = this.heap.peek();
    if (!top || this.stopped) return;
    if (top.due >= this.wakeAt && this.wake) return;
    this.wake?.();
    this.wakeAt = top.due;
    this.wake = this.clock.wakeAt(top.due, this.fire);
  }

  /** Due timers leave the heap and are queued; `take` puts a recurring one back when its firing runs. */
  private readonly fire = (): void => {
    this.wake = null;
    this.wakeAt = Infinity;
    const now = this.clock.now();
    for (;;) {
      const top = this.heap.peek();
      if (!top || top.due > now) break;
      const t = top.target;
      const tm = t.timers?.get(top.name);
      this.heap.remove(top);
      if (t.removed || !tm) continue;
      this.scheduler.enqueue(t, { kind: 'timer', name: top.name, gen: tm.gen });
    }
    this.arm();
  };
}
