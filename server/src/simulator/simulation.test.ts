/**
 * Simulation models on the workbench: each function of the simulation context, instances from a
 * count or a file, and real-time timers interleaved with simulated steps in clock order.
 */
import { defineModel, type JsonValue } from '@hextwin/shared';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { gridNode } from '../../models/index.js';
import pino from 'pino';
import { SimulationClock } from '../engine/clock.js';
import { Engine } from '../engine/engine.js';
import { MemoryStore } from '../store/memory-store.js';
import { createWorkbench, type Workbench } from '../workbench.js';
import { Simulation } from './simulation.js';

const benches: Workbench[] = [];
afterEach(async () => {
  for (const wb of benches.splice(0)) await wb.close();
});
async function bench(models: Parameters<typeof createWorkbench>[0]['models']): Promise<Workbench> {
  const wb = await createWorkbench({ models });
  benches.push(wb);
  return wb;
}

/** A real-time model that keeps every message it gets, with the time it got it. */
const recorder = defineModel<{ got: { at: number; m: JsonValue }[] }, JsonValue>({
  name: 'meter',
  init: () => ({ got: [] }),
  process(ctx, s, messages) {
    for (const m of messages) {
      s.got.push({ at: ctx.now(), m });
      if (m && typeof m === 'object' && !Array.isArray(m) && m.reply) ctx.sendToSource({ reply: m.reply });
    }
    return 'update';
  },
});
const other = defineModel<{ n: number }>({ name: 'other', init: () => ({ n: 0 }), process: (_c, s, m) => ((s.n += m.length), 'update') });

type SimState = { n: number; inbox: JsonValue[] };
function simModel(
  name: string,
  simulate: (ctx: Parameters<NonNullable<ReturnType<typeof defineModel<SimState>>['simulate']>>[0], s: SimState, now: number) => void,
  extra = {},
) {
  return defineModel<SimState, JsonValue>({
    name,
    init: () => ({ n: 0, inbox: [] }),
    process(_ctx, s, messages) {
      s.inbox.push(...messages);
      return 'update';
    },
    simulate,
    simulation: { instances: 1, idPrefix: 'm', target: 'meter', stepMs: 10_000 },
    ...extra,
  });
}
const got = (wb: Workbench, id = 'm-0001') => wb.state<{ got: { at: number; m: JsonValue }[] }>('meter', id)?.got ?? [];

describe('Steps', () => {
  it('should run simulate every stepMs and emit to the real-time twin of the same id', async () => {
    const wb = await bench([recorder, simModel('dev', (ctx, s, now) => ctx.emit({ n: s.n++, at: now }))]);
    const start = wb.now();
    wb.simulate();
    await wb.advance(30_000);
    expect(got(wb).map((g) => g.m)).toEqual([0, 1, 2, 3].map((n) => ({ n, at: start + n * 10_000 })));
    expect(wb.simulation.status.steps).toBe(4);
  });

  it('should create instances from a count with padded ids, and from a JSON file with each row as reference', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'hextwin-sim-'));
    const file = path.join(dir, 'devices.json');
    writeFileSync(
      file,
      JSON.stringify([
        { id: 'a', zone: 'north' },
        { id: 'b', zone: 'south' },
      ]),
    );
    const fromFile = defineModel<{ zone: JsonValue }>({
      name: 'placed',
      init: (_id, ctx) => ({ zone: ctx.reference?.zone ?? null }),
      process: () => 'none',
      simulate: (ctx, s) => ctx.emit({ zone: s.zone }),
      simulation: { instances: file, target: 'meter' },
    });
    const counted = simModel('counted', (ctx) => ctx.emit('hi'), { simulation: { instances: 3, target: 'meter' } });
    const wb = await bench([recorder, fromFile, counted]);
    wb.simulate();
    await wb.advance(0);
    expect(got(wb, 'a').map((g) => g.m)).toEqual([{ zone: 'north' }]);
    expect(got(wb, 'b').map((g) => g.m)).toEqual([{ zone: 'south' }]);
    expect(['counted-0001', 'counted-0002', 'counted-0003'].map((id) => got(wb, id).length)).toEqual([1, 1, 1]);
    expect(wb.simulation.status.instances).toBe(5);
  });
});

describe('Context', () => {
  it('ctx.emit with a target should reach another real-time model, or another simulated instance through its process', async () => {
    const wb = await bench([
      recorder,
      other,
      simModel('dev', (ctx) => {
        ctx.emit({ x: 1 }, { model: 'other', id: 'o1' });
        ctx.emit({ hello: ctx.id }, { model: 'peer', id: 'm-0001' });
        ctx.delayIndefinitely();
      }),
      simModel('peer', (ctx) => ctx.delayIndefinitely()),
    ]);
    wb.simulate();
    await wb.advance(0);
    expect(wb.state<{ n: number }>('other', 'o1')?.n).toBe(1);
    expect(wb.simulation.state<SimState>('peer', 'm-0001')?.inbox).toEqual([{ hello: 'm-0001' }]);
  });

  it('ctx.delay should set the time of the next step', async () => {
    const wb = await bench([recorder, simModel('dev', (ctx, s) => (ctx.emit(s.n++), ctx.delay(s.n * 1_000)))]);
    const start = wb.now();
    wb.simulate();
    await wb.advance(10_000);
    // steps at 0, +1 s, +1+2 s, +1+2+3 s, +1+2+3+4 s
    expect(got(wb).map((g) => g.at - start)).toEqual([0, 1_000, 3_000, 6_000, 10_000]);
  });

  it('ctx.delayIndefinitely should wait until a message arrives: a command from its real-time twin', async () => {
    const wb = await bench([
      recorder,
      simModel('dev', (ctx, s) => {
        s.n++;
        if (s.n === 1) ctx.emit({ reply: 'wake up' });
        ctx.delayIndefinitely();
      }),
    ]);
    wb.simulate();
    await wb.advance(0);
    await wb.advance(60_000);
    const sim = wb.simulation.state<SimState>('dev', 'm-0001')!;
    // step 1 emitted; the twin's command came back to process, which woke step 2; then it waits
    expect(sim.inbox).toEqual([{ reply: 'wake up' }]);
    expect(sim.n).toBe(2);
    expect(wb.commands).toHaveLength(1);
    expect(wb.engine.pendingCommands('meter', 'm-0001')).toEqual([]);
  });

  it('ctx.createTwin should add an instance of a simulation model that steps from then on, with init merged', async () => {
    const wb = await bench([
      recorder,
      simModel('dev', (ctx, s) => {
        if (s.n++ === 0) ctx.createTwin('dev', 'm-0002', { n: 100 });
        ctx.emit(s.n);
      }),
    ]);
    wb.simulate();
    await wb.advance(10_000);
    expect(got(wb, 'm-0002').map((g) => g.m)).toEqual([101, 102]);
    expect(wb.simulation.status.instances).toBe(2);
  });

  it('ctx.removeSelf should take the instance out, and the simulation should end with the last one', async () => {
    const wb = await bench([recorder, simModel('dev', (ctx, s) => (ctx.emit(s.n++), s.n === 3 && ctx.removeSelf()))]);
    wb.simulate();
    await wb.advance(100_000);
    expect(got(wb).map((g) => g.m)).toEqual([0, 1, 2]);
    expect(wb.simulation.status).toMatchObject({ running: false, instances: 0 });
  });

  it('ctx.stopSimulation should end the whole run after this step', async () => {
    const wb = await bench([
      recorder,
      simModel('dev', (ctx, s) => (ctx.emit(s.n++), s.n === 2 && ctx.stopSimulation())),
      simModel('other-dev', (ctx) => ctx.emit('x', { model: 'meter', id: 'o' })),
    ]);
    const start = wb.now();
    wb.simulate();
    await wb.advance(100_000);
    expect(got(wb).map((g) => g.m)).toEqual([0, 1]);
    expect(wb.simulation.status).toMatchObject({ running: false, endTime: start + 10_000 });
    expect(got(wb, 'o').length).toBeLessThanOrEqual(2);
  });

  it('ctx.now should read the simulation clock, and a planned duration should end the run and give progress', async () => {
    const wb = await bench([recorder, simModel('dev', (ctx) => ctx.emit(ctx.now()))]);
    const start = wb.now();
    wb.simulate({ durationMs: 40_000 });
    await wb.advance(20_000);
    expect(wb.simulation.status.progress).toBe(0.5);
    await wb.advance(60_000);
    // steps run in [start, start + duration)
    expect(got(wb).map((g) => g.m)).toEqual([0, 10_000, 20_000, 30_000].map((d) => start + d));
    expect(wb.simulation.status).toMatchObject({ running: false, endTime: start + 40_000, progress: 1 });
  });
});

describe('Clock', () => {
  it('SimulationClock at max speed should jump from wake-up to wake-up, steps and twin timers in clock order', async () => {
    const start = Date.parse('2030-01-01T00:00:00Z');
    const clock = new SimulationClock(start, Infinity);
    const engine = new Engine({ store: new MemoryStore(), clock, models: [gridNode], logger: pino({ level: 'silent' }), checkpointMs: 0 });
    await engine.start();
    const sim = new Simulation({
      engine,
      clock,
      models: [silentNodeSim],
      logger: pino({ level: 'silent' }),
      speed: Infinity,
      durationMs: 60 * 60_000,
      onEnd: () => clock.pause(),
    });
    clock.settle = async () => {
      await sim.idle();
      await engine.idle();
    };
    const conditions: [number, string][] = [];
    engine.on('twinChanged', ({ twin }) => conditions.push([clock.now() - start, (twin.state as { condition: string }).condition]));
    sim.start();
    await clock.resume();
    await engine.stop();
    expect(clock.now()).toBe(start + 60 * 60_000);
    expect(conditions.at(-1)).toEqual([2 * 60_000 + 5 * 60_000 + 1, 'unreachable']);
    expect(sim.status).toMatchObject({ running: false, steps: 3, endTime: start + 60 * 60_000 });
  });

  it("should fire grid-node's 5-minute silence timer between steps, after 5 simulated minutes", async () => {
    const wb = await bench([gridNode, silentNodeSim]);
    wb.simulate();
    // grid-node's timer is 5 minutes and 1 ms after the last message
    await wb.advance(2 * 60_000 + 5 * 60_000);
    expect(wb.state<{ condition: string }>('grid-node', 'node-0001')?.condition).toBe('normal');
    await wb.advance(1);
    expect(wb.state<{ condition: string }>('grid-node', 'node-0001')?.condition).toBe('unreachable');
  });
});

/** A grid node that reports for 2 minutes, then goes silent. */
const silentNodeSim = defineModel<{ n: number }>({
  name: 'grid-node-sim',
  init: () => ({ n: 0 }),
  process: () => 'none',
  simulate(ctx, s, now) {
    if (s.n++ === 0) ctx.emit({ type: 'init', nodeType: 'infrastructure', region: 'TX', lat: 30, lng: -97, timestamp: now });
    else ctx.emit({ type: 'status', condition: 'normal', timestamp: now });
    // reports for 2 minutes, then goes silent
    if (s.n === 3) ctx.delayIndefinitely();
  },
  simulation: { instances: 1, idPrefix: 'node', target: 'grid-node', stepMs: 60_000 },
});
