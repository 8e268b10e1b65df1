/** Timing helpers for figures: medians of repeated runs, each bounded in time. */
import { performance } from 'node:perf_hooks';

export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new RangeError('median of nothing');
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * Operations per second of `step` (which does some work and returns how many operations it did),
 * called repeatedly for at least `minMs`; the median of `runs` such runs.
 */
export function opsPerSecond(step: () => number, minMs: number, runs: number): number {
  const rates: number[] = [];
  for (let r = 0; r < runs; r++) {
    let ops = 0;
    const t0 = performance.now();
    let t = t0;
    while (t - t0 < minMs) {
      ops += step();
      t = performance.now();
    }
    rates.push(ops / ((t - t0) / 1000));
  }
  return median(rates);
}

/** Median duration in ms of `fn` over `runs` runs (after one warm-up run). */
export function medianMs(fn: () => void, runs: number): number {
  fn();
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  return median(times);
}

/** "1M", "100k": how many, for units of quick runs. */
export function short(n: number): string {
  if (n >= 1_000_000 && n % 1_000_000 === 0) return `${n / 1_000_000}M`;
  if (n >= 1_000 && n % 1_000 === 0) return `${n / 1_000}k`;
  return n.toLocaleString('en-US');
}
