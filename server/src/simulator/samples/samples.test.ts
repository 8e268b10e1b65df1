/** The sample simulation models on the workbench, against the real-time models they feed. */
import { afterEach, describe, expect, it } from 'vitest';
import { employee, gasSensor, gridNode, truck, windTurbine } from '../../../models/index.js';
import { createWorkbench, type Workbench } from '../../workbench.js';
import { GasFleet } from '../gas-fleet.js';
import { GridFleet } from '../grid-fleet.js';
import { gasSensorSim, gasSensorSimulation } from './gas-sensor-sim.js';
import { gridNodeSimulation } from './grid-node-sim.js';
import { employeeSimulation } from './employee-sim.js';
import { truckSimulation } from './truck-sim.js';
import { windSimulation } from './wind-turbine-sim.js';
import { statusAttacker, statusDevice, statusTracker } from './status-tracker.js';

const benches: Workbench[] = [];
afterEach(async () => {
  for (const wb of benches.splice(0)) await wb.close();
});

describe('grid-node-sim', () => {
  it('should introduce each node with its fleet placement, then report every step to its grid-node twin', async () => {
    const wb = await createWorkbench({ models: [gridNode, gridNodeSimulation({ count: 200, seed: 'test', stepMs: 60_000 })] });
    benches.push(wb);
    wb.simulate();
    await wb.advance(0);
    expect(wb.engine.twinCount('grid-node')).toBe(200);
    const first = wb.twin('grid-node', 'node-0001')!;
    expect(first.lat).toBeTypeOf('number');
    await wb.advance(60 * 60_000);
    expect(wb.simulation.status.steps).toBe(200 * 61);
    const seen = [...wb.engine.twins('grid-node')].map((t) => (t.state as { lastSeen: number }).lastSeen);
    expect(new Set(seen)).toEqual(new Set([wb.now()]));
  });
});

describe('grid-node-sim under a scenario', () => {
  it('should report what a scenario forces on its fleet, and nothing while the scenario silences it', async () => {
    const fleet = new GridFleet({ count: 50, seed: 'test' });
    const wb = await createWorkbench({ models: [gridNode, gridNodeSimulation({ fleet, stepMs: 60_000 })] });
    benches.push(wb);
    wb.simulate();
    await wb.advance(60_000);
    const t = wb.now();
    fleet.force(0, 'severe', t + 10 * 60_000);
    fleet.silence(1, t + 10 * 60_000);
    await wb.advance(60_000);
    const condition = (i: number) => wb.state<{ condition: string; lastSeen: number }>('grid-node', fleet.id(i))!;
    expect(condition(0).condition).toBe('severe');
    expect(condition(1).lastSeen).toBe(t);
    await wb.advance(4 * 60_000);
    expect(condition(0).condition).toBe('severe');
    expect(condition(1).lastSeen).toBe(t);
    // over: both report normal again
    await wb.advance(6 * 60_000);
    expect(condition(0).condition).toBe('normal');
    expect(condition(1).lastSeen).toBe(wb.now());
  });
});

describe('gas-sensor-sim', () => {
  it("should leak past 200 ppm, close its pipe on the twin's shutdown command, and read normal again", async () => {
    const wb = await createWorkbench({ models: [gasSensor, gasSensorSim] });
    benches.push(wb);
    wb.simulate();
    await wb.advance(9 * 60_000);
    expect(wb.alerts).toEqual([]);
    await wb.advance(21 * 60_000);
    expect(wb.alerts.filter((a) => a.twinId === 'gas-sim-0001' && a.severity === 'CRITICAL')).toHaveLength(1);
    expect(wb.commands.map((c) => [c.id, (c.command as { command: string }).command])).toEqual([['gas-sim-0001', 'shutdown']]);
    expect(wb.simulation.state<{ shut: boolean }>('gas-sensor-sim', 'gas-sim-0001')?.shut).toBe(true);
    expect(wb.state<{ ppm: number }>('gas-sensor', 'gas-sim-0001')!.ppm).toBeLessThan(20);
    expect(wb.state<{ ppm: number }>('gas-sensor', 'gas-sim-0002')!.ppm).toBeLessThan(20);
    expect(wb.engine.twinCount('gas-sensor')).toBe(6);
  });

  it('should take its sensors, ids and leaks from a given fleet, as the demo does', async () => {
    const fleet = new GasFleet({ count: 10, cities: 2, seed: 'test' });
    const wb = await createWorkbench({ models: [gasSensor, gasSensorSimulation({ fleet, leakAfterMs: null })] });
    benches.push(wb);
    wb.simulate();
    await wb.advance(60_000);
    expect([...wb.engine.twins('gas-sensor')].map((t) => t.id).sort()).toEqual(fleet.sensors.map((s) => s.id).sort());
    expect(wb.alerts).toEqual([]);
    // a leak written into the fleet (the demo's gas-leak scenario) shows at the next reading
    fleet.leak(3, 300, wb.now() + 60 * 60_000);
    await wb.advance(20_000);
    expect(wb.commands.map((c) => c.id)).toEqual([fleet.id(3)]);
    await wb.advance(20_000);
    expect(fleet.leaking(3, wb.now())).toBe(false);
    expect(wb.state<{ ppm: number }>('gas-sensor', fleet.id(3))!.ppm).toBeLessThan(20);
  });
});

describe('StatusTracker', () => {
  it('should let the tracker twins catch the devices the attacker silenced or tampered with', async () => {
    const wb = await createWorkbench({ models: [statusTracker, statusDevice, statusAttacker] });
    benches.push(wb);
    wb.simulate();
    await wb.advance(14 * 60_000);
    const conditions = () => [...wb.engine.twins('status-tracker')].map((t) => (t.state as { condition: string }).condition);
    expect(conditions().every((c) => c === 'ok')).toBe(true);
    // the first wave at 15 minutes; silence shows after 3 missed reports
    await wb.advance(5 * 60_000);
    const c = conditions();
    expect(c.filter((x) => x === 'silent').length + c.filter((x) => x === 'tampered').length).toBe(5);
    expect(c.filter((x) => x === 'silent').length).toBeGreaterThan(0);
    expect(c.filter((x) => x === 'tampered').length).toBeGreaterThan(0);
    // the attack lasts 10 minutes: after it every device reports well again
    await wb.advance(7 * 60_000);
    expect(conditions().every((x) => x === 'ok')).toBe(true);
    expect(wb.alerts.map((a) => a.title).sort()).toEqual(expect.arrayContaining(['Bad value reported', 'Device silent']));
  });
});

describe('wind-farm-sim and wind-turbine-sim', () => {
  it('should create one turbine instance per fleet turbine, which introduce themselves and report to their twins', async () => {
    const wb = await createWorkbench({ models: [windTurbine, ...windSimulation({ count: 24, farms: 3, seed: 'test' })] });
    benches.push(wb);
    wb.simulate();
    await wb.advance(0);
    expect(wb.simulation.status.instances).toBe(24);
    await wb.advance(10 * 60_000);
    expect(wb.engine.twinCount('wind-turbine')).toBe(24);
    const twins = [...wb.engine.twins('wind-turbine')];
    expect(twins.every((t) => typeof t.lat === 'number')).toBe(true);
    expect(twins.every((t) => typeof (t.state as { rpm?: number }).rpm === 'number')).toBe(true);
    expect(wb.errors).toEqual([]);
  });
});

describe('employee-sim', () => {
  it('should report contacts to the employee twins and keep a quarantined employee at home', async () => {
    const wb = await createWorkbench({ models: [employee, employeeSimulation({ count: 30, seed: 'test' })] });
    benches.push(wb);
    wb.simulate();
    await wb.advance(4 * 60 * 60_000);
    expect(wb.engine.twinCount('employee')).toBe(30);
    // a positive test makes the twin tell its contacts to quarantine; their phones go home
    await wb.send('employee', 'emp-0001', { type: 'positiveTest', at: wb.now() });
    await wb.advance(0);
    const quarantined = wb.commands.filter((c) => (c.command as { type?: string }).type === 'quarantine').map((c) => c.id);
    expect(quarantined.length).toBeGreaterThan(0);
    const lastContact = (id: string) => Math.max(0, ...(wb.state<{ contacts: { at: number }[] }>('employee', id)?.contacts ?? []).map((c) => c.at));
    const sentHome = wb.now();
    await wb.advance(24 * 60 * 60_000);
    const others = [...wb.engine.twins('employee')].map((t) => t.id).filter((id) => !quarantined.includes(id));
    expect(quarantined.filter((id) => lastContact(id) > sentHome)).toEqual([]);
    expect(others.filter((id) => lastContact(id) > sentHome).length).toBeGreaterThan(0);
  });
});

describe('truck-sim', () => {
  it('should introduce every truck with its route and then move it along its lane, valid for the truck model', async () => {
    const wb = await createWorkbench({ models: [truck, truckSimulation({ count: 20, seed: 'test' })] });
    benches.push(wb);
    wb.simulate();
    await wb.advance(0);
    expect(wb.engine.twinCount('truck')).toBe(20);
    const at = (id: string) => [wb.twin('truck', id)!.lat, wb.twin('truck', id)!.lng];
    await wb.advance(60_000);
    const before = at('truck-0001');
    await wb.advance(30 * 60_000);
    expect(at('truck-0001')).not.toEqual(before);
    expect(wb.errors).toEqual([]);
  });
});
