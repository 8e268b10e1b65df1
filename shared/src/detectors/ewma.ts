/**
 * EWMA z-score detector: an exponentially weighted mean and variance follow the signal (weight
 * `alpha` for the newest sample), and a sample is anomalous when its distance from the mean so far is
 * more than `threshold` weighted standard deviations. Unlike the change-point detector it adapts:
 * after a step, the new level becomes normal within about `1 / alpha` samples. Detection starts after
 * `warmup` samples.
 *
 * State: three numbers.
 */
import { numberOption, type Detection, type Detector } from './detector.js';

export interface EwmaOptions {
  /** weight of the newest sample, in (0, 1]; default 0.05 (about the last 20 to 40 samples) */
  alpha?: number;
  /** |z| above which a sample is anomalous; default 5 */
  threshold?: number;
  /** samples before anything is reported; default 20 */
  warmup?: number;
  /** the smallest standard deviation used, in the signal's unit; default 1e-9 */
  minSigma?: number;
}

export interface EwmaState {
  /** samples seen, counted up to `warmup` */
  n: number;
  mean: number;
  variance: number;
}

export interface EwmaDetection extends Detection {
  /** signed z-score of this sample against the mean and deviation before it */
  z: number;
  /** the weighted mean after this sample */
  mean: number;
}

export function ewmaDetector(options: EwmaOptions = {}): Detector<EwmaState, EwmaDetection> {
  const alpha = numberOption('ewma-z', 'alpha', options.alpha, 0.05, Number.MIN_VALUE, 1);
  const threshold = numberOption('ewma-z', 'threshold', options.threshold, 5, 0);
  const warmup = Math.floor(numberOption('ewma-z', 'warmup', options.warmup, 20, 1));
  const minSigma = numberOption('ewma-z', 'minSigma', options.minSigma, 1e-9, 0);

  return {
    kind: 'ewma-z',
    init: () => ({ n: 0, mean: 0, variance: 0 }),
    update(s, x) {
      if (!Number.isFinite(x)) return { anomaly: false, score: 0, z: 0, mean: s.mean };
      if (s.n === 0) {
        s.n = 1;
        s.mean = x;
        s.variance = 0;
        return { anomaly: false, score: 0, z: 0, mean: x };
      }
      const diff = x - s.mean;
      const z = diff / Math.max(Math.sqrt(s.variance), minSigma);
      const anomaly = s.n >= warmup && Math.abs(z) > threshold;
      // incremental exponentially weighted variance (West 1979 / Finch 2009)
      const incr = alpha * diff;
      s.mean += incr;
      s.variance = (1 - alpha) * (s.variance + diff * incr);
      s.n = Math.min(s.n + 1, warmup);
      return { anomaly, score: Math.abs(z), z, mean: s.mean };
    },
  };
}
