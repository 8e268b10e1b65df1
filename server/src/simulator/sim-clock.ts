/**
 * The simulation's event clock, driven by the message count rather than the wall clock: the n-th
 * message is stamped `start + n / rate * speed` seconds. At the target rate this keeps pace with
 * real time times `speed`; and the same seed, rate and speed give the same messages on any machine,
 * however fast the server acknowledges them.
 */
export class SimClock {
  constructor(
    /** event time of the first message, epoch ms */
    readonly start: number,
    /** messages per second of real time */
    readonly rate: number,
    /** simulated seconds per real second (1: real time; 60: a minute a second) */
    readonly speed: number,
  ) {
    if (!(rate > 0)) throw new RangeError(`rate must be > 0, got ${rate}`);
    if (!(speed > 0)) throw new RangeError(`speed must be > 0, got ${speed}`);
  }

  /** Event time of the n-th message (0-based), whole ms. */
  at(n: number): number {
    return Math.round(this.start + (n / this.rate) * this.speed * 1000);
  }
}
