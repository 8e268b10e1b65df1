/**
 * A partition engine's clock that can be held: while held, wake-ups that come due wait (the
 * engine's timers do not fire) and run in order once released. The cluster holds a partition's
 * clock while its node is cut off from NATS and may no longer be the owner (fence.ts).
 */
import type { Clock } from '../engine/clock.js';

export class HeldClock implements Clock {
  private held = false;
  private waiting: { fn: () => void; live: boolean }[] = [];

  constructor(private readonly base: Clock) {}

  now(): number {
    return this.base.now();
  }

  wakeAt(at: number, fn: () => void): () => void {
    const w = { fn, live: true };
    const cancel = this.base.wakeAt(at, () => {
      if (!w.live) return;
      if (this.held) this.waiting.push(w);
      else {
        w.live = false;
        fn();
      }
    });
    return () => {
      w.live = false;
      cancel();
    };
  }

  get isHeld(): boolean {
    return this.held;
  }

  hold(): void {
    this.held = true;
  }

  release(): void {
    this.held = false;
    const due = this.waiting;
    this.waiting = [];
    for (const w of due) {
      if (!w.live) continue;
      w.live = false;
      w.fn();
    }
  }
}
