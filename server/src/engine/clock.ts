/** The engine clock: real time in production, virtual in the workbench and simulations. */
export interface Clock {
  now(): number;
  /** Call `fn` once the clock reaches `at`; returns a cancel function. */
  wakeAt(at: number, fn: () => void): () => void;
}

export class RealClock implements Clock {
  now(): number {
    return Date.now();
  }
  wakeAt(at: number, fn: () => void): () => void {
    // setTimeout caps at ~24.8 days; re-arm in steps for longer waits
    const MAX = 2 ** 31 - 1;
    let handle: NodeJS.Timeout;
    const arm = () => {
      const wait = at - Date.now();
      handle = setTimeout(wait > MAX ? arm : fn, Math.max(0, Math.min(wait, MAX)));
      handle.unref?.();
    };
    arm();
    return () => clearTimeout(handle);
  }
}

/** A clock that moves only when told to (tests, workbench, faster-than-real-time simulation). */
export class VirtualClock implements Clock {
  private t: number;
  private wakes: { at: number; seq: number; fn: () => void; live: boolean }[] = [];
  private seq = 0;

  constructor(start: number) {
    this.t = start;
  }
  now(): number {
    return this.t;
  }
  wakeAt(at: number, fn: () => void): () => void {
    const w = { at, seq: this.seq++, fn, live: true };
    this.wakes.push(w);
    return () => {
      w.live = false;
    };
  }
  /** The earliest pending wake-up at or before `limit`, removed from the queue. */
  private takeNext(limit: number): { at: number; fn: () => void } | undefined {
    let best = -1;
    for (let i = 0; i < this.wakes.length; i++) {
      const w = this.wakes[i]!;
      if (!w.live || w.at > limit) continue;
      if (best < 0 || w.at < this.wakes[best]!.at || (w.at === this.wakes[best]!.at && w.seq < this.wakes[best]!.seq)) best = i;
    }
    if (best < 0) {
      this.wakes = this.wakes.filter((w) => w.live);
      return undefined;
    }
    const [w] = this.wakes.splice(best, 1);
    return w;
  }
  /**
   * Move to `target`, stopping at each wake-up in time order and awaiting `settle` after each
   * (so the engine can run what the wake-up enqueued before time moves on).
   */
  async advanceTo(target: number, settle: () => Promise<void>): Promise<void> {
    for (;;) {
      const w = this.takeNext(target);
      if (!w) break;
      if (w.at > this.t) this.t = w.at;
      w.fn();
      await settle();
    }
    if (target > this.t) this.t = target;
    await settle();
  }
  /** Set the clock without firing anything (e.g. to follow event time). */
  set(t: number): void {
    this.t = t;
  }
}
