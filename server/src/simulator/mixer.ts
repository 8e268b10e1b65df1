/**
 * Interleaves the fleets of a world into one stream: first every fleet's setup messages, then
 * readings in proportion to each fleet's size times its rate share (stride scheduling), so that
 * every device of a fleet reports about equally often.
 */
import type { Fleet, WireEnvelope } from './fleet.js';

export class Mixer {
  private readonly stride: number[];
  private readonly pass: number[];
  private setupFleet = 0;
  private setupLoaded = false;
  private setupQueue: WireEnvelope[] = [];
  private setupPos = 0;

  constructor(private readonly fleets: readonly Fleet[]) {
    this.stride = fleets.map((f) => 1 / Math.max(1e-9, f.size * f.rateShare));
    this.pass = fleets.map(() => 0);
  }

  /** How many setup messages come before the steady stream. */
  get setupSize(): number {
    return this.fleets.reduce((sum, f) => sum + f.setupSize, 0);
  }

  /** True while setup messages remain. */
  get settingUp(): boolean {
    return this.setupFleet < this.fleets.length;
  }

  /** The next message at event time t; undefined when every device is silent. */
  next(t: number): WireEnvelope | undefined {
    while (this.setupFleet < this.fleets.length) {
      // a fleet's setup messages are made when first needed, so they carry the time they are sent
      if (!this.setupLoaded) {
        this.setupQueue = this.fleets[this.setupFleet]!.setup(t);
        this.setupPos = 0;
        this.setupLoaded = true;
      }
      const m = this.setupQueue[this.setupPos++];
      if (this.setupPos >= this.setupQueue.length) {
        this.setupFleet++;
        this.setupLoaded = false;
        this.setupQueue = [];
      }
      if (m) return m;
    }
    // fleets that had nothing to say on this call, as bits (a world has a handful of fleets)
    let silent = 0;
    for (let tries = 0; tries < this.fleets.length; tries++) {
      let f = -1;
      for (let k = 0; k < this.pass.length; k++) if (!(silent & (1 << k)) && (f < 0 || this.pass[k]! < this.pass[f]!)) f = k;
      this.pass[f]! += this.stride[f]!;
      const m = this.fleets[f]!.next(t);
      if (m) return m;
      silent |= 1 << f;
    }
    return undefined;
  }
}
