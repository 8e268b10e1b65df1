/**
 * The one shape every streaming detector has. A detector object holds only its options and is shared
 * by all twins of a model; each twin keeps its own detector *state*, a small plain-JSON object that
 * lives in the twin's state and is checkpointed with it:
 *
 *   const spikes = spikeDetector({ window: 25, threshold: 6 });
 *   init: () => ({ ppmSpikes: spikes.init() }),
 *   process(ctx, state, messages) { for (const m of messages) if (spikes.update(state.ppmSpikes, m.ppm).anomaly) … }
 *
 * `update` mutates the state in place and returns what it found for that sample. Detectors are
 * deterministic (the same samples give the same results, after a restart too), their state has a
 * fixed size set by the options, and a non-finite sample (NaN, Infinity) is ignored: the state is
 * left as it was and nothing is reported.
 */
export interface Detection {
  /** this sample is anomalous by the detector's test */
  anomaly: boolean;
  /** how far the sample is from normal, in the detector's own unit (0 when nothing is known yet) */
  score: number;
}

export interface Detector<S, R extends Detection = Detection> {
  /** "spike", "change-point", "ewma-z", "rate-of-change" */
  readonly kind: string;
  /** A fresh state: plain numbers and arrays of numbers, safe to store in a twin. */
  init(): S;
  /** Feed one sample (with its event time in epoch ms, which rate of change needs); mutates `state`. */
  update(state: S, value: number, time?: number): R;
}

/** Reads an option, checks it is a finite number in [min, max], and names it when it is not. */
export function numberOption(detector: string, name: string, value: number | undefined, fallback: number, min: number, max = Infinity): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    throw new RangeError(`${detector}: option ${name} must be a number in [${min}, ${max}], got ${String(v)}`);
  }
  return v;
}
