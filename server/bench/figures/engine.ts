/** Engine figures (issue 2): apply rate with durability on, memory per twin, restart-to-ready. */
import type { Bench } from '../bench.js';
import { Floor } from '../floors.js';
import { runWorker as run } from '../lib/worker.js';

const runWorker = (twins: number, messages: number) =>
  run<{ applyRate: number; bytesPerTwin: number; restartMs: number; restored: number }>(new URL('../engine-worker.ts', import.meta.url), [
    String(twins),
    String(messages),
  ]);

export default {
  name: 'engine',
  floors: [Floor.parseLookupUpdateBatch100, Floor.memoryPerTwin],
  async run(b: Bench) {
    const twins = b.quick ? 100_000 : 1_000_000;
    const label = b.quick ? '100k' : '1M';
    const r = await runWorker(twins, b.quick ? 500_000 : 2_000_000);
    b.report({
      name: 'engine.apply-rate',
      value: r.applyRate,
      unit: `msgs/s (${label} twins, batches of 100, durable LMDB)`,
      floor: Floor.parseLookupUpdateBatch100,
      goal: '>= 0.8 of floor',
    });
    b.report({
      name: 'engine.memory-per-twin',
      value: r.bytesPerTwin,
      unit: `bytes/twin (${label} twins of a small model)`,
      floor: Floor.memoryPerTwin,
      goal: '<= 1024 bytes',
    });
    b.report({ name: 'engine.restart-to-ready', value: r.restartMs, unit: `ms (${label} twins)`, goal: '<= 10000 ms at 1M twins' });
  },
};
