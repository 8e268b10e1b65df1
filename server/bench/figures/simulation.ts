/**
 * Simulation figures: an hour of the demo's 20,000-node grid (grid-node-sim, a report a minute
 * from every node) simulated as fast as the steps allow, through the embedded engine with a
 * durable LMDB store and grid-node's silence timers on the simulation clock. The floor is measured
 * in the same run on the same engine: the same number of status messages ingested directly, in
 * batches of the same size, without the simulation around them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import type { JsonValue } from '@hextwin/shared';
import type { Bench } from '../bench.js';
import { gridNode } from '../../models/grid-node.js';
import { SimulationClock } from '../../src/engine/clock.js';
import { Engine } from '../../src/engine/engine.js';
import { LmdbStore } from '../../src/store/lmdb-store.js';
import { gridNodeSimulation } from '../../src/simulator/samples/grid-node-sim.js';
import { Simulation } from '../../src/simulator/simulation.js';

const START = Date.parse('2030-01-01T00:00:00Z');
const HOUR = 3_600_000;

async function withEngine<T>(clock: SimulationClock, fn: (engine: Engine) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(path.join(tmpdir(), 'hextwin-bench-sim-'));
  const engine = new Engine({
    store: new LmdbStore(dir),
    clock,
    models: [gridNode],
    logger: pino({ level: 'silent' }),
    checkpointMs: 2_000,
    maxQueued: 2_000_000,
  });
  try {
    await engine.start();
    return await fn(engine);
  } finally {
    await engine.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export default {
  name: 'simulation',
  async run(b: Bench) {
    const nodes = b.quick ? 2_000 : 20_000;
    const label = `${nodes.toLocaleString('en-US')} nodes, 1 simulated hour`;
    b.progress(`simulating ${label} at max speed`);
    const clock = new SimulationClock(START, Infinity);
    const sim = await withEngine(clock, async (e) => {
      const run = new Simulation({
        engine: e,
        clock,
        models: [gridNodeSimulation({ count: nodes, seed: 'bench' })],
        logger: pino({ level: 'silent' }),
        speed: Infinity,
        durationMs: HOUR,
        onEnd: () => clock.pause(),
      });
      clock.settle = async () => {
        await run.idle();
        await e.idle();
      };
      // instances are created (and the nodes placed among the US cities) before the clock starts
      run.start();
      const t0 = performance.now();
      await clock.resume();
      await run.idle();
      await e.idle();
      const wallMs = performance.now() - t0;
      const unreachable = [...e.twins('grid-node')].filter((t) => (t.state as { condition: string }).condition === 'unreachable').length;
      return { wallMs, emitted: run.status.emitted, unreachable };
    });
    if (sim.emitted < nodes * 60) throw new Error(`the simulation emitted ${sim.emitted} messages, expected ${nodes * 61}`);
    if (sim.unreachable !== 0) throw new Error(`${sim.unreachable} nodes turned unreachable although every node reported each minute`);
    const rate = sim.emitted / (sim.wallMs / 1000);

    b.progress('floor: the same messages ingested directly');
    const floor = await withEngine(new SimulationClock(START, Infinity), async (e) => {
      const batch = (k: number) =>
        Array.from({ length: nodes }, (_, i) => ({
          model: 'grid-node',
          id: `node-${String(i + 1).padStart(5, '0')}`,
          message: (k === 0
            ? { type: 'init', nodeType: 'infrastructure', region: 'TX', lat: 30, lng: -97, timestamp: START }
            : { type: 'status', condition: 'normal', timestamp: START + k * 60_000 }) as JsonValue,
        }));
      const t0 = performance.now();
      let n = 0;
      for (let k = 0; k <= 60; k++) {
        const msgs = batch(k);
        await e.ingest(msgs, { source: { connector: 'bench' } });
        await e.idle();
        n += msgs.length;
      }
      return n / ((performance.now() - t0) / 1000);
    });

    b.report({
      name: 'simulation.grid-hour',
      value: sim.wallMs / 1000,
      unit: `s wall (${label}, durable LMDB, timers on the simulation clock)`,
      goal: '<= 60 s for 20,000 nodes',
    });
    b.report({
      name: 'simulation.messages',
      value: rate,
      unit: `simulated msgs/s through the engine (${label}); ${(rate / floor).toFixed(2)} of direct ingest`,
      goal: '>= 0.5 of direct ingest',
    });
    b.report({ name: 'simulation.floor-direct-ingest', value: floor, unit: `msgs/s (the same messages ingested directly, batches of ${nodes})` });
  },
};
