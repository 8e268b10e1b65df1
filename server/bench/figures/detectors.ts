/**
 * What the streaming detectors cost model code per sample, in ns, each quoted against a floor
 * measured in the same run over the same series: a plain running mean (one add, one divide, and the
 * same state-object access), the least any per-sample statistic does.
 */
import { changePointDetector, ewmaDetector, rateOfChangeDetector, spikeDetector, type Detection, type Detector } from '@hextwin/shared';
import type { Bench, Figure } from '../bench.js';
import { opsPerSecond } from '../lib/measure.js';

/** The floor's name, registered in floors.ts so that it runs before the figures. */
export const DETECTORS_FLOOR = 'floor.detectors-running-mean';

const SAMPLES = 10_000;

/** A seeded noisy series with a few spikes and a step, the same in every run. */
function series(): Float64Array {
  let a = 12345;
  const out = new Float64Array(SAMPLES);
  for (let i = 0; i < SAMPLES; i++) {
    a = (Math.imul(a, 1103515245) + 12345) >>> 0;
    out[i] = (i < SAMPLES / 2 ? 50 : 56) + (a / 2 ** 32 - 0.5) * 4 + (i % 997 === 0 ? 40 : 0);
  }
  return out;
}

const timing = (b: Bench) => (b.quick ? { minMs: 150, runs: 3 } : { minMs: 600, runs: 5 });
const unit = 'ns/sample (one twin, one core)';

/** ns per sample of `step`, which walks the whole series once. */
function nsPerSample(b: Bench, step: () => number): number {
  const { minMs, runs } = timing(b);
  return 1e9 / opsPerSecond(step, minMs, runs);
}

export const runningMeanFloor: Figure = {
  name: DETECTORS_FLOOR,
  async run(b) {
    const xs = series();
    let sink = 0;
    const ns = nsPerSample(b, () => {
      const s = { n: 0, mean: 0 };
      for (let i = 0; i < xs.length; i++) {
        s.n += 1;
        s.mean += (xs[i]! - s.mean) / s.n;
      }
      sink += s.mean;
      return xs.length;
    });
    if (!Number.isFinite(sink)) throw new Error('running mean went wrong');
    b.report({ name: DETECTORS_FLOOR, value: ns, unit });
  },
};

const detectors: [string, Detector<unknown, Detection>][] = [
  ['spike', spikeDetector() as Detector<unknown, Detection>],
  ['change-point', changePointDetector() as Detector<unknown, Detection>],
  ['ewma-z', ewmaDetector() as Detector<unknown, Detection>],
  ['rate-of-change', rateOfChangeDetector({ maxRate: 100 }) as Detector<unknown, Detection>],
];

const figure: Figure = {
  name: 'detectors.per-sample',
  async run(b) {
    const xs = series();
    for (const [kind, d] of detectors) {
      let found = 0;
      const ns = nsPerSample(b, () => {
        const state = d.init();
        for (let i = 0; i < xs.length; i++) if (d.update(state, xs[i]!, i * 1000).anomaly) found++;
        return xs.length;
      });
      b.progress(`${kind}: ${ns.toFixed(1)} ns/sample, ${found} anomalies flagged in all runs`);
      b.report({
        name: `detectors.${kind}`,
        value: ns,
        unit,
        floor: DETECTORS_FLOOR,
        goal: 'lower is better: a small fraction of the ~1-3 µs a message costs the engine',
      });
    }
  },
};

export default figure;
