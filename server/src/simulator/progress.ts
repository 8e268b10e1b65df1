/** The simulator's progress line: rate, acknowledged, errors, in a form a person reads at a glance. */
import type { SimulatorStats } from './simulator.js';

const n = (x: number) => Math.round(x).toLocaleString('en-US');

/** Tracks the acknowledged rate between two looks at the stats. */
export class ProgressLine {
  private lastAcked = 0;
  private lastAt = 0;

  format(s: SimulatorStats): string {
    const dt = (s.elapsedMs - this.lastAt) / 1000;
    const rate = dt > 0 ? (s.acked - this.lastAcked) / dt : 0;
    this.lastAcked = s.acked;
    this.lastAt = s.elapsedMs;
    const parts = [
      `${(s.elapsedMs / 1000).toFixed(1)}s`,
      `rate ${n(rate)}/s`,
      `sent ${n(s.sent)}`,
      `acked ${n(s.acked)}`,
      `errors ${n(s.errors)}`,
      `in-flight ${n(s.inFlight)}`,
    ];
    if (s.resent > 0) parts.push(`resent ${n(s.resent)}`);
    if (s.reconnects > 0) parts.push(`reconnects ${n(s.reconnects)}`);
    if (s.commands > 0) parts.push(`commands ${n(s.commands)}`);
    parts.push(`event time ${new Date(s.eventTime).toISOString().slice(0, 19)}Z`);
    return parts.join('  ');
  }
}
