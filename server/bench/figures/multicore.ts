/**
 * Does a second core pay? The engine's parse + find + update work on batches of 100, on one thread
 * versus two partition workers handed each batch's raw bytes (transferred). Throughput is compared
 * with the one-thread run of the same child; CPU time per message counts every thread.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Bench } from '../bench.js';

interface Result {
  one: { rate: number; cpuUsPerMsg: number };
  two: { rate: number; cpuUsPerMsg: number; applied: number };
}

function runChild(twins: number, batches: number): Promise<Result> {
  const child = spawn(
    process.execPath,
    ['--max-semi-space-size=64', '--import', 'tsx', fileURLToPath(new URL('../multicore-child.ts', import.meta.url)), String(twins), String(batches)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!) as Result) : reject(new Error(`multicore child exited with ${code}`)),
    );
  });
}

export default {
  name: 'multicore',
  async run(b: Bench) {
    const twins = b.quick ? 200_000 : 1_000_000;
    const r = await runChild(twins, b.quick ? 5_000 : 20_000);
    const label = `${twins / 1000}k twins, batches of 100`;
    b.report({ name: 'multicore.one-thread-rate', value: r.one.rate, unit: `msgs/s (${label})` });
    b.report({
      name: 'multicore.two-workers-rate',
      value: r.two.rate,
      unit: `msgs/s (${label}, raw bytes transferred)`,
      goal: '> one-thread rate to be worth it',
    });
    b.report({ name: 'multicore.one-thread-cpu', value: r.one.cpuUsPerMsg, unit: 'CPU µs/msg' });
    b.report({ name: 'multicore.two-workers-cpu', value: r.two.cpuUsPerMsg, unit: 'CPU µs/msg (all threads)', goal: '<= one-thread CPU' });
  },
};
