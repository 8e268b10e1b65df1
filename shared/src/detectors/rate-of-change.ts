/**
 * Rate-of-change detector: the change between consecutive samples per second of event time. A sample
 * is anomalous when `|rate| > maxRate`. Samples must come with their event time; one at the same time
 * as, or earlier than, the previous one is ignored (out-of-order or duplicate readings).
 *
 * State: the previous sample and its time.
 */
import { numberOption, type Detection, type Detector } from './detector.js';

export interface RateOfChangeOptions {
  /** largest normal |change| per second, in the signal's unit; required */
  maxRate: number;
}

export interface RateOfChangeState {
  value: number | null;
  time: number | null;
}

export interface RateOfChangeDetection extends Detection {
  /** change per second since the previous sample; null for the first one */
  rate: number | null;
}

export function rateOfChangeDetector(options: RateOfChangeOptions): Detector<RateOfChangeState, RateOfChangeDetection> {
  const maxRate = numberOption('rate-of-change', 'maxRate', options?.maxRate, NaN, Number.MIN_VALUE);
  return {
    kind: 'rate-of-change',
    init: () => ({ value: null, time: null }),
    update(s, x, t) {
      if (typeof t !== 'number' || !Number.isFinite(t)) throw new TypeError('rate-of-change: update needs the sample time (epoch ms)');
      if (!Number.isFinite(x) || (s.time !== null && t <= s.time)) return { anomaly: false, score: 0, rate: null };
      const prev = s.value;
      const prevTime = s.time;
      s.value = x;
      s.time = t;
      if (prev === null || prevTime === null) return { anomaly: false, score: 0, rate: null };
      const rate = (x - prev) / ((t - prevTime) / 1000);
      const score = Math.abs(rate) / maxRate;
      return { anomaly: score > 1, score, rate };
    },
  };
}
