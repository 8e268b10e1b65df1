/** Engine figures (issue 2): apply rate with durability on, memory per twin, restart-to-ready. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Bench } from '../bench.js';
import { Floor } from '../floors.js';

function runWorker(twins: number, messages: number): Promise<{ applyRate: number; bytesPerTwin: number; restartMs: number; restored: number }> {
  const worker = fileURLToPath(new URL('../engine-worker.ts', import.meta.url));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--max-semi-space-size=64', '--import', 'tsx', worker, String(twins), String(messages)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!)) : reject(new Error(`engine worker exited with ${code}`))));
  });
}

export default {
  name: 'engine',
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
