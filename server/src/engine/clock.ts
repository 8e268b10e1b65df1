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
    // setTimeout caps at ~24.8 days, and its monotonic clock can fire a millisecond before
    // Date.now() reaches `at`: re-arm until the clock has reached it
    const MAX = 2 ** 31 - 1;
    let handle: NodeJS.Timeout;
    const arm = () => {
      handle = setTimeout(tick, Math.max(0, Math.min(at - Date.now(), MAX)));
      handle.unref?.();
    };
    const tick = () => (Date.now() >= at ? fn() : arm());
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

/**
 * The clock of a simulation run inside the server: it advances at `speed` × wall time from
 * `start`, or, with speed Infinity, jumps from one wake-up to the next as soon as the engine has
 * settled the previous one (as fast as the simulation's steps allow). Wake-ups fire in clock order,
 * so the engine's twin timers and the simulation's steps interleave as they would in real time.
 */
export class SimulationClock implements Clock {
  private baseSim: number;
  private baseWall: number;
  private floor: number;
  private readonly wakes: { at: number; seq: number; fn: () => void; live: boolean }[] = [];
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
  private paused = true;

  /** max speed only: resolves once the work a wake-up started is done (the engine and the simulation idle) */
  settle: () => Promise<void> = () => new Promise((r) => setImmediate(r));

  constructor(
    start: number,
    private readonly speedFactor: number,
  ) {
    if (!(speedFactor > 0)) throw new RangeError(`speed must be > 0, got ${speedFactor}`);
    this.baseSim = this.floor = start;
    this.baseWall = performance.now();
  }

  get speed(): number {
    return this.speedFactor;
  }
  get running(): boolean {
    return !this.paused;
  }

  now(): number {
    if (this.paused || this.speedFactor === Infinity) return this.floor;
    return Math.max(this.floor, Math.floor(this.baseSim + (performance.now() - this.baseWall) * this.speedFactor));
  }

  wakeAt(at: number, fn: () => void): () => void {
    const w = { at, seq: this.seq++, fn, live: true };
    this.wakes.push(w);
    if (!this.paused && this.speedFactor !== Infinity) this.arm();
    return () => {
      w.live = false;
    };
  }

  /** Let time run (again); at max speed, resolves only when paused or when nothing is left to wake. */
  async resume(): Promise<void> {
    if (!this.paused) return;
    this.baseSim = this.floor;
    this.baseWall = performance.now();
    this.paused = false;
    if (this.speedFactor !== Infinity) return this.arm();
    while (!this.paused) {
      const w = this.takeNext(Infinity);
      if (!w) break;
      if (w.at > this.floor) this.floor = w.at;
      w.fn();
      await this.settle();
    }
  }

  /** Stop time where it is (wake-ups wait); the clock reads the same until resumed. */
  pause(): void {
    if (this.paused) return;
    this.floor = this.now();
    this.paused = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private takeNext(limit: number): { at: number; fn: () => void } | undefined {
    let best = -1;
    let live = 0;
    for (let i = 0; i < this.wakes.length; i++) {
      const w = this.wakes[i]!;
      if (!w.live) continue;
      live++;
      if (w.at > limit) continue;
      if (best < 0 || w.at < this.wakes[best]!.at || (w.at === this.wakes[best]!.at && w.seq < this.wakes[best]!.seq)) best = i;
    }
    // cancelled wake-ups pile up (every re-armed timer leaves one): sweep them now and then
    if (live * 2 < this.wakes.length) {
      const keep = this.wakes.filter((w) => w.live);
      const chosen = best >= 0 ? this.wakes[best] : undefined;
      this.wakes.length = 0;
      this.wakes.push(...keep);
      best = chosen ? this.wakes.indexOf(chosen) : -1;
    }
    if (best < 0) return undefined;
    return this.wakes.splice(best, 1)[0];
  }

  /** Scaled speed: one wall-clock timeout for the earliest wake-up. */
  private arm(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    let next = Infinity;
    for (const w of this.wakes) if (w.live && w.at < next) next = w.at;
    if (next === Infinity || this.paused) return;
    const wait = Math.max(0, Math.ceil((next - this.now()) / this.speedFactor));
    this.timer = setTimeout(this.fire, Math.min(wait, 2 ** 31 - 1));
    this.timer.unref?.();
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    const now = this.now();
    for (;;) {
      const w = this.takeNext(now);
      if (!w) break;
      if (w.at > this.floor) this.floor = w.at;
      w.fn();
    }
    this.arm();
  };
}
