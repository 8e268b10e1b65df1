import { describe, expect, it } from 'vitest';
import { changePointDetector, ewmaDetector, rateOfChangeDetector, spikeDetector, type Detection, type Detector } from '../src/index.js';

/** mulberry32: a small seeded PRNG, so the "noise" is the same on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal samples (Box–Muller) from a seeded PRNG. */
function gaussian(seed: number, n: number, mean = 0, sigma = 1): number[] {
  const r = prng(seed);
  return Array.from({ length: n }, () => mean + sigma * Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r()));
}

function run<S, R extends Detection>(d: Detector<S, R>, series: number[], state = d.init(), t0 = 0, stepMs = 1000): { state: S; results: R[] } {
  const results = series.map((x, i) => d.update(state, x, t0 + i * stepMs));
  return { state, results };
}

const anomalies = (rs: Detection[]) => rs.flatMap((r, i) => (r.anomaly ? [i] : []));

describe('Spike detector', () => {
  it('raises no false alarm on 20,000 samples of stationary noise', () => {
    expect(anomalies(run(spikeDetector(), gaussian(1, 20_000, 50, 2)).results)).toEqual([]);
  });

  it('finds exactly the injected spikes, even two close together', () => {
    const series = gaussian(2, 1_000, 50, 2);
    for (const i of [100, 400, 403, 800]) series[i]! += 50;
    expect(anomalies(run(spikeDetector(), series).results)).toEqual([100, 400, 403, 800]);
  });

  it('reports the median and robust scale of the window before the sample', () => {
    const d = spikeDetector({ window: 5, minSamples: 5 });
    const { results } = run(d, [1, 2, 3, 4, 5, 100]);
    expect(results[5]).toMatchObject({ anomaly: true, median: 3, scale: 1.4826 });
    expect(results.slice(0, 5).every((r) => r.median === null)).toBe(true);
  });

  it('treats the smallest change of a constant signal as a spike unless minScale allows for it', () => {
    const series = [...Array(20).fill(10), 11];
    expect(anomalies(run(spikeDetector(), series).results)).toEqual([20]);
    expect(anomalies(run(spikeDetector({ minScale: 1 }), series).results)).toEqual([]);
  });

  it('keeps at most `window` samples in its state', () => {
    const { state } = run(spikeDetector({ window: 7 }), gaussian(3, 100));
    expect(state.values).toHaveLength(7);
  });
});

describe('Change-point detector', () => {
  it('raises no false alarm on 20,000 samples of stationary noise', () => {
    expect(anomalies(run(changePointDetector(), gaussian(4, 20_000, 10, 3)).results)).toEqual([]);
  });

  it('finds a 3 sigma step within 6 samples and places its onset within 3 samples of the truth', () => {
    const series = [...gaussian(5, 300, 0, 1), ...gaussian(6, 200, 3, 1)];
    const { results } = run(changePointDetector(), series);
    const found = anomalies(results);
    expect(found).toHaveLength(1);
    expect(found[0]).toBeGreaterThanOrEqual(300);
    expect(found[0]).toBeLessThanOrEqual(306);
    const hit = results[found[0]!]!;
    expect(hit.direction).toBe('up');
    expect(Math.abs(hit.changeAt! - 300)).toBeLessThanOrEqual(3);
    expect(hit.baseline).toBeCloseTo(0, 0);
  });

  it('finds a fall as a change down, then learns the new level and stays quiet', () => {
    const series = [...gaussian(7, 200, 100, 5), ...gaussian(8, 2_000, 80, 5)];
    const { results, state } = run(changePointDetector(), series);
    const found = anomalies(results);
    expect(found).toHaveLength(1);
    expect(results[found[0]!]!.direction).toBe('down');
    expect(found[0]! - 200).toBeLessThanOrEqual(6);
    expect(state.changes).toBe(1);
    expect(Math.abs(state.mean - 80)).toBeLessThan(2);
  });

  it('finds a slow drift that never jumps', () => {
    const series = gaussian(9, 1_000, 0, 1).map((x, i) => (i < 100 ? x : x + (i - 100) * 0.02));
    const { results } = run(changePointDetector(), series);
    const found = anomalies(results);
    expect(found.length).toBeGreaterThanOrEqual(1);
    expect(results[found[0]!]!.direction).toBe('up');
    expect(found[0]).toBeGreaterThan(100);
  });
});

describe('EWMA z-score detector', () => {
  it('raises no false alarm on 20,000 samples of stationary noise', () => {
    expect(anomalies(run(ewmaDetector(), gaussian(10, 20_000, -5, 0.5)).results)).toEqual([]);
  });

  it('flags a 10 sigma step at the sample it happens, then adapts to the new level', () => {
    const series = [...gaussian(11, 500, 0, 1), ...gaussian(12, 500, 10, 1)];
    const { results } = run(ewmaDetector(), series);
    const found = anomalies(results);
    expect(found[0]).toBe(500);
    expect(Math.max(...found)).toBeLessThan(600);
    expect(results[500]!.z).toBeGreaterThan(5);
  });

  it('reports nothing during its warm-up', () => {
    expect(anomalies(run(ewmaDetector({ warmup: 20 }), [0, 0, 0, 1, 1000, -1000]).results)).toEqual([]);
  });
});

describe('Rate-of-change detector', () => {
  it('measures change per second of event time', () => {
    const d = rateOfChangeDetector({ maxRate: 5 });
    const s = d.init();
    expect(d.update(s, 10, 0).rate).toBeNull();
    expect(d.update(s, 14, 2_000)).toMatchObject({ anomaly: false, rate: 2 });
    expect(d.update(s, 26, 3_000)).toMatchObject({ anomaly: true, rate: 12 });
    expect(d.update(s, 20, 4_000)).toMatchObject({ anomaly: true, rate: -6 });
  });

  it('ignores a sample that is not newer than the previous one', () => {
    const d = rateOfChangeDetector({ maxRate: 1 });
    const s = d.init();
    d.update(s, 0, 5_000);
    expect(d.update(s, 100, 5_000)).toMatchObject({ anomaly: false, rate: null });
    expect(s).toEqual({ value: 0, time: 5_000 });
  });

  it('needs the sample time', () => {
    const d = rateOfChangeDetector({ maxRate: 1 });
    expect(() => d.update(d.init(), 1)).toThrow(/time/);
  });
});

describe('Every detector', () => {
  const detectors = [spikeDetector({ window: 11 }), changePointDetector({ warmup: 20 }), ewmaDetector(), rateOfChangeDetector({ maxRate: 3 })] as Detector<
    unknown,
    Detection
  >[];
  const series = [...gaussian(13, 300, 20, 1), ...gaussian(14, 300, 26, 1)];
  series[150] = 40;

  it.each(detectors.map((d) => [d.kind, d] as const))('%s gives the same results when its state goes through JSON halfway', (_kind, d) => {
    const whole = run(d, series);
    const first = run(d, series.slice(0, 250));
    const restored = JSON.parse(JSON.stringify(first.state)) as unknown;
    const second = run(d, series.slice(250), restored, 250 * 1000);
    expect([...first.results, ...second.results]).toEqual(whole.results);
    expect(second.state).toEqual(whole.state);
  });

  it.each(detectors.map((d) => [d.kind, d] as const))('%s ignores a non-finite sample', (_kind, d) => {
    const { state } = run(d, series.slice(0, 50));
    const before = structuredClone(state);
    expect(d.update(state, NaN, 50_000).anomaly).toBe(false);
    expect(state).toEqual(before);
  });

  it('refuses an option out of range, naming it', () => {
    expect(() => spikeDetector({ window: 1 })).toThrow(/spike: option window/);
    expect(() => ewmaDetector({ alpha: 2 })).toThrow(/ewma-z: option alpha/);
    expect(() => rateOfChangeDetector({} as { maxRate: number })).toThrow(/maxRate/);
  });
});

describe('Spike detector arithmetic', () => {
  it('computes the median and MAD of odd and even windows exactly', () => {
    // window [1, 2, 4, 8, 16]: median 4, deviations 3 2 0 4 12 → MAD 3
    const odd = spikeDetector({ window: 5, minSamples: 5, threshold: 1e9 });
    expect(run(odd, [8, 1, 16, 4, 2, 4]).results[5]).toMatchObject({ median: 4, scale: 1.4826 * 3 });
    // window [1, 2, 4, 8, 16, 32]: median 6, deviations 5 4 2 2 10 26 → MAD (4 + 5) / 2
    const even = spikeDetector({ window: 6, minSamples: 6, threshold: 1e9 });
    expect(run(even, [32, 8, 1, 16, 4, 2, 6]).results[6]).toMatchObject({ median: 6, scale: 1.4826 * 4.5 });
    // ties at the median
    const ties = spikeDetector({ window: 5, minSamples: 5, threshold: 1e9, minScale: 0 });
    expect(run(ties, [3, 3, 3, 1, 9, 3]).results[5]).toMatchObject({ median: 3, scale: 0 });
  });
});
