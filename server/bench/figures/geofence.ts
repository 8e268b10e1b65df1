/**
 * Geofences on the ingest path: location updates per second through the geofence tracker
 * (candidate lookup in the grid index, exact point-in-polygon / haversine, membership and events)
 * with 10,000 fences, quoted against the same updates with no fence at all. The fences tile a
 * 2° × 2° region, half 8-sided polygons of ~1 km and half circles of 500 m; the twins wander in
 * steps of ~100 m over a slightly larger region, so some cross edges and most are near fences.
 */
import type { Bench, Figure } from '../bench.js';
import { opsPerSecond } from '../lib/measure.js';
import { compileFence, parseGeofence } from '../../src/geofence/fence.js';
import { FenceTracker } from '../../src/geofence/tracker.js';

const FENCES = 10_000;
const SIDE = 100;
const W = 13;
const S = 52;

function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (Math.imul(a, 1103515245) + 12345) >>> 0;
    return a / 2 ** 32;
  };
}

function tracker(fences: number): { t: FenceTracker; events: () => number } {
  let n = 0;
  const t = new FenceTracker({ now: () => 0, wakeAt: () => () => {} }, () => void n++);
  for (let i = 0; i < fences; i++) {
    const cx = W + ((i % SIDE) + 0.5) * (2 / SIDE);
    const cy = S + (Math.floor(i / SIDE) + 0.5) * (2 / SIDE);
    const shape =
      i % 2 === 0
        ? { center: [cx, cy], radiusM: 500 }
        : {
            type: 'Polygon',
            coordinates: [Array.from({ length: 8 }, (_, k) => [cx + 0.007 * Math.cos((k * Math.PI) / 4), cy + 0.0045 * Math.sin((k * Math.PI) / 4)])],
          };
    t.put(compileFence(parseGeofence({ name: `f${i}`, shape }), 'api', 0), [], true);
  }
  return { t, events: () => n };
}

/** Updates per second of `twins` twins wandering through `fences` fences. */
function rate(b: Bench, fences: number, twins: number): { rate: number; events: number } {
  const rnd = seeded(42);
  const lat = new Float64Array(twins).map(() => S - 0.1 + rnd() * 2.2);
  const lng = new Float64Array(twins).map(() => W - 0.1 + rnd() * 2.2);
  const ids = Array.from({ length: twins }, (_, i) => `t${i}`);
  const { t, events } = tracker(fences);
  let k = 0;
  const step = () => {
    for (let j = 0; j < 10_000; j++) {
      const i = (k = (k + 7919) % twins);
      lat[i]! += (rnd() - 0.5) * 0.002;
      lng[i]! += (rnd() - 0.5) * 0.003;
      t.moved('vehicle', ids[i]!, lat[i]!, lng[i]!);
    }
    return 10_000;
  };
  const r = b.quick ? opsPerSecond(step, 300, 3) : opsPerSecond(step, 1_000, 5);
  return { rate: r, events: events() };
}

const figure: Figure = {
  name: 'geofence',
  async run(b) {
    const twins = b.quick ? 100_000 : 1_000_000;
    const unit = `location updates/s (${twins / 1000}k twins, one core)`;
    const none = rate(b, 0, twins);
    b.progress(`no fences: ${Math.round(none.rate)} updates/s`);
    b.report({ name: 'geofence.no-fences', value: none.rate, unit });
    const many = rate(b, FENCES, twins);
    b.progress(`${FENCES} fences: ${Math.round(many.rate)} updates/s, ${many.events} ENTER/EXIT events`);
    b.report({
      name: 'geofence.10k-fences',
      value: many.rate,
      unit: `${unit}, ${many.events} events`,
      floor: 'geofence.no-fences',
      goal: 'well above the ~0.5 M msgs/s the engine applies: 10k fences must not be the bottleneck',
    });
  },
};
export default figure;
