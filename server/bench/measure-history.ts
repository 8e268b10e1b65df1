/**
 * What twin history costs the engine per message: the gas-sensor model on an LMDB store, 10,000
 * twins, one reading per twin per virtual second, with history off, as the sample ships it (at
 * most one sample every 10 s, of three fields) and sampled on every update of the whole state.
 * Quotes CPU µs per applied message (process CPU time over ingest + apply, medians of 3 runs).
 *
 *   npx tsx server/bench/measure-history.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import type { HistorySpec, ModelDefinition } from '@hextwin/shared';
import { gasSensor } from '../models/gas-sensor.js';
import { VirtualClock } from '../src/engine/clock.js';
import { Engine } from '../src/engine/engine.js';
import { LmdbStore } from '../src/store/lmdb-store.js';

const TWINS = 10_000;
const ROUNDS = 30;
const BATCH = 100;

async function run(history: HistorySpec | undefined): Promise<number> {
  const dir = mkdtempSync(path.join(tmpdir(), 'hextwin-history-bench-'));
  const model = { ...gasSensor, history } as ModelDefinition;
  const clock = new VirtualClock(Date.parse('2026-01-01T00:00:00Z'));
  const engine = new Engine({ store: new LmdbStore(dir), clock, models: [model], logger: pino({ level: 'silent' }), checkpointMs: 0 });
  await engine.start();
  const round = (r: number) => {
    const pending: Promise<void>[] = [];
    for (let i = 0; i < TWINS; i += BATCH) {
      const envelopes = [];
      for (let k = i; k < i + BATCH; k++) envelopes.push({ model: 'gas-sensor', id: `s${k}`, message: { ppm: 5 + ((k + r) % 20), timestamp: clock.now() } });
      pending.push(engine.ingest(envelopes));
    }
    return Promise.all(pending);
  };
  await round(0); // twins created before the clock starts
  await engine.idle();
  const cpu0 = process.cpuUsage();
  for (let r = 1; r <= ROUNDS; r++) {
    await round(r);
    await engine.idle();
    await clock.advanceTo(clock.now() + 1_000, () => engine.idle());
  }
  const cpu = process.cpuUsage(cpu0);
  await engine.stop();
  rmSync(dir, { recursive: true, force: true });
  return (cpu.user + cpu.system) / (TWINS * ROUNDS);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const cases: [string, HistorySpec | undefined][] = [
  ['history off', undefined],
  ['as shipped (limit 50, everyMs 10 s, pick 3 fields)', gasSensor.history],
  ['every update, whole state (limit 50)', { limit: 50 }],
];
for (const [name, spec] of cases) {
  const runs: number[] = [];
  for (let i = 0; i < 3; i++) runs.push(await run(spec));
  process.stdout.write(`${name}: ${median(runs).toFixed(2)} µs CPU/message (runs ${runs.map((r) => r.toFixed(2)).join(', ')})\n`);
}
