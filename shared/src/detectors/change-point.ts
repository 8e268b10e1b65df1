/**
 * Change-point (level shift and trend) detector: a two-sided CUSUM on standardised samples. The
 * first `warmup` samples set a baseline (mean and standard deviation); after that each sample's
 * z-score feeds two cumulative sums, one for a rise and one for a fall:
 * `up = max(0, up + z - k)`, `down = max(0, down - z - k)`. When one exceeds `h`, a change is
 * reported, with the sample index where that sum last left zero (the estimated onset), and the
 * detector learns a new baseline from the following samples. The baseline does not follow the
 * signal, so a slow drift adds up and is reported too.
 *
 * `k` is half the shift (in standard deviations) the detector is tuned for; `h` trades delay against
 * false alarms: with the defaults (k 0.5, h 10) a 3 σ step is found within about 5 samples, a 1 σ step
 * within about 25, and Gaussian noise raises a false alarm about once in 15,000 samples (measured).
 *
 * State: a handful of numbers.
 */
import { numberOption, type Detection, type Detector } from './detector.js';

export interface ChangePointOptions {
  /** samples that set each baseline; default 50 (at least 2) */
  warmup?: number;
  /** allowance per sample, in standard deviations; default 0.5 */
  k?: number;
  /** decision threshold, in standard deviations; default 10 */
  h?: number;
  /** the smallest standard deviation used, in the signal's unit; default 1e-9 */
  minSigma?: number;
}

export interface ChangePointState {
  /** samples seen in all, the index of the next sample */
  seen: number;
  /** samples in the current baseline (up to `warmup`) */
  n: number;
  mean: number;
  /** sum of squared deviations of the baseline (Welford) */
  m2: number;
  up: number;
  down: number;
  /** sample index where `up` / `down` last left zero */
  upFrom: number;
  downFrom: number;
  /** changes reported so far */
  changes: number;
}

export interface ChangePointDetection extends Detection {
  /** the direction of a reported change, null when none */
  direction: 'up' | 'down' | null;
  /** estimated index of the sample where the reported change began; null when none */
  changeAt: number | null;
  /** baseline mean in use; null while a baseline is being learnt */
  baseline: number | null;
}

export function changePointDetector(options: ChangePointOptions = {}): Detector<ChangePointState, ChangePointDetection> {
  const warmup = Math.floor(numberOption('change-point', 'warmup', options.warmup, 50, 2));
  const k = numberOption('change-point', 'k', options.k, 0.5, 0);
  const h = numberOption('change-point', 'h', options.h, 10, 0);
  const minSigma = numberOption('change-point', 'minSigma', options.minSigma, 1e-9, 0);
  const none = (baseline: number | null): ChangePointDetection => ({ anomaly: false, score: 0, direction: null, changeAt: null, baseline });

  return {
    kind: 'change-point',
    init: () => ({ seen: 0, n: 0, mean: 0, m2: 0, up: 0, down: 0, upFrom: 0, downFrom: 0, changes: 0 }),
    update(s, x) {
      if (!Number.isFinite(x)) return none(s.n >= warmup ? s.mean : null);
      const index = s.seen++;
      if (s.n < warmup) {
        s.n += 1;
        const d = x - s.mean;
        s.mean += d / s.n;
        s.m2 += d * (x - s.mean);
        return none(null);
      }
      const sigma = Math.max(Math.sqrt(s.m2 / (s.n - 1)), minSigma);
      const z = (x - s.mean) / sigma;
      // a sum that is zero now starts at this sample if it grows: that is the onset estimate
      if (s.up === 0) s.upFrom = index;
      if (s.down === 0) s.downFrom = index;
      s.up = Math.max(0, s.up + z - k);
      s.down = Math.max(0, s.down - z - k);
      const score = Math.max(s.up, s.down);
      if (score <= h) return { anomaly: false, score, direction: null, changeAt: null, baseline: s.mean };
      const direction = s.up >= s.down ? 'up' : 'down';
      const changeAt = direction === 'up' ? s.upFrom : s.downFrom;
      const baseline = s.mean;
      // learn the new level from the next samples
      s.changes += 1;
      s.n = 0;
      s.mean = 0;
      s.m2 = 0;
      s.up = 0;
      s.down = 0;
      return { anomaly: true, score, direction, changeAt, baseline };
    },
  };
}
