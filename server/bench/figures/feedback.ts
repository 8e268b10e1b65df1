/**
 * Aggregate feedback and recording (model-toolkit issue, parts 2 and 5), in one process on the
 * in-memory store so that only what the feature adds is measured:
 *
 * - `feedback.refresh-lag`: from an accepted change to the moment `ctx.aggregate` returns the new
 *   value, median over changes at random moments, with `everyMs` = 100 (the wait for the next
 *   refresh dominates: about everyMs / 2 on average, plus the refresh itself).
 * - `feedback.refresh-ms`: one refresh after 10% of the twins changed (what a tick costs).
 * - `feedback.cpu-per-message` with one declared aggregate, against the same load with none
 *   (`feedback.cpu-per-message-none`, the floor of this figure), CPU µs per message applied.
 * - `recording.cpu-per-message` with the model recorded, against the same floor (off: the tap is
 *   not set, one null check per batch).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { defineModel, type ModelDefinition } from '@hextwin/shared';
import type { Bench, Figure } from '../bench.js';
import { median } from '../lib/measure.js';
import { Engine } from '../../src/engine/engine.js';
import { RealClock } from '../../src/engine/clock.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { TwinIndex } from '../../src/index/twin-index.js';
import { AggregateFeedback } from '../../src/index/feedback.js';
import { Recorder } from '../../src/recording/recorder.js';

const EVERY_MS = 100;
const NONE = 'feedback.cpu-per-message-none';

interface Van {
  region: string;
  delay: number;
}

function vanModel(withAggregate: boolean): ModelDefinition {
  return defineModel<Van, Van>({
    name: 'van',
    ...(withAggregate ? { aggregates: { byRegion: { model: 'van', groupBy: 'region', metrics: [{ field: 'delay', op: 'AVG' }], everyMs: EVERY_MS } } } : {}),
    init: () => ({ region: '', delay: 0 }),
    process(ctx, state, messages) {
      for (const m of messages) {
        state.region = m.region;
        state.delay = m.delay;
      }
      if (withAggregate) ctx.aggregate('byRegion', state.region);
      return 'update';
    },
  });
}

async function harness(withAggregate: boolean) {
  const clock = new RealClock();
  const model = vanModel(withAggregate);
  const engine = new Engine({ store: new MemoryStore(), clock, models: [model], logger: pino({ level: 'silent' }), checkpointMs: 0 });
  await engine.start();
  // the server always has the index (GraphQL); the feedback is what a declared aggregate adds
  const index = new TwinIndex(engine);
  const feedback = withAggregate ? new AggregateFeedback(index, [model], clock) : null;
  if (feedback) engine.setAggregateSource(feedback);
  return {
    engine,
    feedback,
    async close() {
      feedback?.close();
      index.close();
      await engine.stop();
    },
  };
}

const REGIONS = 50;
const msg = (i: number, round: number) => ({ model: 'van', id: `v${i}`, message: { region: `r${i % REGIONS}`, delay: (i * 7 + round) % 60 } });

/** CPU µs per message of `rounds` passes over `twins`, batches of 100, each pass applied before the next. */
async function cpuPerMessage(engine: Engine, twins: number, rounds: number): Promise<number> {
  for (let i = 0; i < twins; i += 100) await engine.ingest(Array.from({ length: Math.min(100, twins - i) }, (_, k) => msg(i + k, 0)));
  await engine.idle();
  const c0 = process.cpuUsage();
  for (let r = 1; r <= rounds; r++) {
    const pending: Promise<void>[] = [];
    for (let i = 0; i < twins; i += 100) pending.push(engine.ingest(Array.from({ length: Math.min(100, twins - i) }, (_, k) => msg(i + k, r))));
    await Promise.all(pending);
    await engine.idle();
    // let the refresh timer run as it would between bursts
    await new Promise((res) => setTimeout(res, EVERY_MS / 10));
  }
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / (twins * rounds);
}

const figure: Figure = {
  name: 'feedback',
  async run(b: Bench) {
    const twins = b.quick ? 20_000 : 100_000;
    const rounds = b.quick ? 3 : 10;
    const label = `${twins / 1000}k twins, ${REGIONS} groups, batches of 100`;

    // per-message cost: none, one aggregate, recording on; alternated, so warm-up and drift fall on each alike
    const dir = mkdtempSync(path.join(tmpdir(), 'hextwin-bench-rec-'));
    const us = { none: [] as number[], one: [] as number[], rec: [] as number[] };
    try {
      for (let pass = 0; pass < (b.quick ? 2 : 3); pass++) {
        const none = await harness(false);
        us.none.push(await cpuPerMessage(none.engine, twins, rounds));
        await none.close();
        const one = await harness(true);
        us.one.push(await cpuPerMessage(one.engine, twins, rounds));
        await one.close();
        const rec = await harness(false);
        const recorder = new Recorder(dir, rec.engine, pino({ level: 'silent' }));
        await recorder.start('van', { maxBytes: 2 ** 40, maxMs: 3_600_000 });
        us.rec.push(await cpuPerMessage(rec.engine, twins, rounds));
        await recorder.close();
        await rec.close();
        rmSync(dir, { recursive: true, force: true });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    b.report({ name: NONE, value: median(us.none), unit: `CPU µs/msg (${label}, no aggregate)` });
    b.report({ name: 'feedback.cpu-per-message', value: median(us.one), unit: `CPU µs/msg (${label}, one aggregate)`, floor: NONE, goal: 'ratio <= 1.1' });
    b.report({ name: 'recording.cpu-per-message', value: median(us.rec), unit: `CPU µs/msg (${label}, recorded)`, floor: NONE, goal: 'extra <= 2 µs/msg' });

    const one = await harness(true);
    for (let i = 0; i < twins; i += 100) await one.engine.ingest(Array.from({ length: Math.min(100, twins - i) }, (_, k) => msg(i + k, 0)));
    await one.engine.idle();
    // one refresh after 10% of the twins changed
    const agg = one.feedback!;
    const refreshMs: number[] = [];
    for (let r = 0; r < 5; r++) {
      for (let i = 0; i < twins; i += 1_000) await one.engine.ingest(Array.from({ length: 100 }, (_, k) => msg(i + k, 100 + r)));
      await one.engine.idle();
      const t0 = performance.now();
      agg.refreshNow();
      refreshMs.push(performance.now() - t0);
    }
    b.report({
      name: 'feedback.refresh-ms',
      value: median(refreshMs),
      unit: `ms per refresh (${twins / 10_000}k of ${twins / 1000}k twins changed)`,
      goal: '<= 10 ms',
    });

    // lag: a change to one group, then poll what ctx.aggregate returns
    const lags: number[] = [];
    const samples = b.quick ? 10 : 30;
    for (let s = 0; s < samples; s++) {
      await new Promise((res) => setTimeout(res, Math.random() * EVERY_MS));
      const before = (agg.get('van', 'byRegion', 'r0', true) as { values: number[] } | undefined)?.values[0];
      const delay = 1_000 + s; // moves r0's average
      const t0 = performance.now();
      await one.engine.ingest([{ model: 'van', id: 'v0', message: { region: 'r0', delay } }]);
      for (;;) {
        const now = (agg.get('van', 'byRegion', 'r0', true) as { values: number[] } | undefined)?.values[0];
        if (now !== before) break;
        await new Promise((res) => setTimeout(res, 1));
      }
      lags.push(performance.now() - t0);
    }
    await one.close();
    b.report({
      name: 'feedback.refresh-lag',
      value: median(lags),
      unit: `ms median (everyMs ${EVERY_MS}, ${twins / 1000}k twins)`,
      goal: `<= everyMs (${EVERY_MS})`,
    });
  },
};

export default figure;
