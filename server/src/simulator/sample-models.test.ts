/**
 * The simulator against the real sample models, in-process on the workbench: every message it
 * makes is valid for its model, and each scenario has the effect an operator expects to see.
 */
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { employee, gasSensor, gridNode, sampleModels, truck, windTurbine } from '../../models/index.js';
import type { Workbench } from '../workbench.js';
import { WORKBENCH_EPOCH, createWorkbench } from '../workbench.js';
import type { WireEnvelope } from './fleet.js';
import { PrintSender } from './print-sender.js';
import { Simulator } from './simulator.js';
import type { WorldSize } from './world.js';
import { World } from './world.js';
import { Writable } from 'node:stream';

const logger = pino({ level: 'silent' });
const benches: Workbench[] = [];
afterEach(async () => {
  for (const wb of benches.splice(0)) await wb.close();
});

async function bench(models = sampleModels): Promise<Workbench> {
  const wb = await createWorkbench({ models });
  benches.push(wb);
  return wb;
}

/** A simulator over a small world whose messages the test takes by hand (no sender involved). */
function simulator(size: Partial<WorldSize>, speed = 60) {
  const world = new World('1', size);
  const nowhere = new PrintSender(new Writable({ write: (_c, _e, done) => done() }));
  const sim = new Simulator({ world, sender: nowhere, rate: 1_000, speed, start: WORKBENCH_EPOCH, logger });
  return { world, sim };
}

async function ingest(wb: Workbench, messages: WireEnvelope[]): Promise<void> {
  for (let i = 0; i < messages.length; i += 500) await wb.engine.ingest(messages.slice(i, i + 500));
  await wb.engine.idle();
}

describe('simulated messages', () => {
  it('are all valid for the sample models and make none of them fail', async () => {
    const wb = await bench();
    const { world, sim } = simulator({ 'grid-node': 1_000, truck: 100, 'gas-sensor': 20, 'wind-turbine': 40, employee: 30 });
    const setup = world.fleets.reduce((n, f) => n + f.setupSize, 0);
    await ingest(wb, sim.take(setup + 5_000));
    for (const name of ['grid-attack', 'regional-outage', 'gas-leak', 'positive-test']) await ingest(wb, sim.trigger(name).messages);
    await ingest(wb, sim.take(2_000));
    expect(wb.errors).toEqual([]);
    expect(wb.engine.twinCount('grid-node')).toBe(1_000);
    expect(wb.engine.twinCount('truck')).toBe(100);
    expect(wb.engine.twinCount('employee')).toBe(30);
    // trucks took their route from the init message, and most are on the road
    const trucks = [...wb.engine.twins('truck')].map((t) => t.state as { contextSource: string; status: string });
    expect(trucks.every((s) => s.contextSource === 'init')).toBe(true);
    expect(trucks.filter((s) => s.status === 'moving').length).toBeGreaterThan(50);
  });
});

describe('scenarios on the sample models', () => {
  it('grid-attack raises a CRITICAL alert for every severe node', async () => {
    const wb = await bench([gridNode]);
    const { world, sim } = simulator({ 'grid-node': 5_000 });
    await ingest(wb, sim.take(world.grid!.setupSize));
    wb.clear();
    const effect = sim.trigger('grid-attack');
    await ingest(wb, effect.messages);
    const severe = effect.messages.filter((m) => (m.message as { condition: string }).condition === 'severe').length;
    expect(wb.alerts.filter((a) => a.severity === 'CRITICAL')).toHaveLength(severe);
    expect(wb.alerts.filter((a) => a.severity === 'WARNING')).toHaveLength(effect.messages.length - severe);
  });

  it('regional-outage leaves a state offline, then unreachable once silent for 5 minutes', async () => {
    const wb = await bench([gridNode]);
    const { world, sim } = simulator({ 'grid-node': 5_000 });
    await ingest(wb, sim.take(world.grid!.setupSize));
    const effect = sim.trigger('regional-outage');
    await ingest(wb, effect.messages);
    const id = effect.messages[0]!.id;
    expect(wb.state<{ condition: string }>('grid-node', id)!.condition).toBe('offline');
    await wb.advance(6 * 60_000);
    expect(wb.state<{ condition: string }>('grid-node', id)!.condition).toBe('unreachable');
  });

  it('gas-leak sounds the alarm, and the shutdown command stops the leak at that sensor', async () => {
    const wb = await bench([gasSensor]);
    const { world, sim } = simulator({ 'gas-sensor': 50 });
    await ingest(wb, sim.take(100));
    const effect = sim.trigger('gas-leak');
    await ingest(wb, effect.messages);
    expect(wb.alerts.filter((a) => a.severity === 'CRITICAL')).toHaveLength(1);
    expect(wb.commands).toHaveLength(1);
    const cmd = wb.commands[0]!;
    expect(cmd.command).toMatchObject({ command: 'shutdown' });
    const gas = world.gas!;
    const index = gas.sensors.findIndex((s) => s.id === cmd.id);
    expect(gas.leaking(index, sim.eventTime())).toBe(true);
    gas.onCommand(cmd.id, cmd.command);
    expect(gas.leaking(index, sim.eventTime())).toBe(false);
  });

  it('positive-test exposes contacts and contacts of contacts, who are told to quarantine', async () => {
    const wb = await bench([employee]);
    const { world, sim } = simulator({ employee: 60 });
    // setup, then a few hundred meetings over the next minutes of event time
    await ingest(wb, sim.take(world.office!.setupSize + 300));
    const effect = sim.trigger('positive-test');
    await ingest(wb, effect.messages);
    const patient = effect.messages.at(-1)!.id;
    expect(wb.state<{ status: string }>('employee', patient)!.status).toBe('positive');
    const exposed = [...wb.engine.twins('employee')].filter((t) => (t.state as { status: string }).status === 'exposed');
    expect(exposed.length).toBeGreaterThan(effect.messages.length - 1);
    const quarantines = wb.commands.filter((c) => (c.command as { type?: string }).type === 'quarantine');
    expect(quarantines).toHaveLength(exposed.length);
    // the simulated phones obey: the quarantined stay home
    for (const c of quarantines) world.office!.onCommand(c.id, c.command, sim.eventTime());
    const next = sim.take(200).map((m) => m.id);
    for (const c of quarantines) expect(next).not.toContain(c.id);
  });

  it('trucks raise speeding, stall and cargo alerts on their own over a day on the road', async () => {
    const wb = await bench([truck]);
    const { world, sim } = simulator({ truck: 200 }, 1_000);
    await ingest(wb, sim.take(world.trucks!.setupSize));
    // 30,000 messages at 1,000/s and 1,000x are about 8 hours of event time
    for (let k = 0; k < 30; k++) await ingest(wb, sim.take(1_000));
    expect(wb.errors).toEqual([]);
    const kinds = new Set(wb.alerts.map((a) => (a.data as { kind: string }).kind));
    expect(kinds).toEqual(new Set(['speeding', 'stalled', 'cargoTemp']));
  });

  it('a turbine fault raises an ERROR alert on its twin', async () => {
    const wb = await bench([windTurbine]);
    const { world, sim } = simulator({ 'wind-turbine': 50 });
    await ingest(wb, sim.take(world.wind!.setupSize));
    world.wind!.fault(0, 'overheat', sim.eventTime() + 3 * 60_000);
    // 5,000 messages at 1,000/s and 60x are 5 minutes of event time: a reading every 3 s per turbine
    await ingest(wb, sim.take(5_000));
    expect(wb.errors).toEqual([]);
    const alerts = wb.alerts.filter((a) => a.twinId === world.wind!.id(0));
    expect(alerts.length).toBeGreaterThan(0);
    expect(alerts.every((a) => a.severity === 'ERROR')).toBe(true);
  });
});
