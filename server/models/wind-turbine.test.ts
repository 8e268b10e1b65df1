import { afterEach, describe, expect, it } from 'vitest';
import type { ReferenceRow } from '@hextwin/shared';
import { createWorkbench, type Workbench } from '../src/workbench.js';
import { MAX_READINGS, RPM_SHIFT_TITLE, TEMP_ANOMALY_TITLE, windTurbine, type TurbineModel, type WindTurbineState } from './wind-turbine.js';

const S = 1000;
const MIN = 60 * S;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const T0 = Date.parse('2026-01-01T00:00:00Z');

let wb: Workbench;
afterEach(() => wb?.close());

/** Turbines of the reference data used below (the workbench starts at 2026-01-01). */
const reference: ReferenceRow[] = [
  // model A: pre-maintenance from 2025-12-01 on, so inside it at the start
  { id: 'pre', turbineModel: 'A', nextMaintenance: '2026-03-01' },
  // model A: pre-maintenance from 2026-03-03 on
  { id: 'far', turbineModel: 'A', nextMaintenance: '2026-06-01' },
];

async function turbines(rows: ReferenceRow[] = reference) {
  wb = await createWorkbench({ models: [windTurbine], start: T0, reference: { 'wind-turbine': rows } });
  const reading = (atMs: number, temp = 60, rpm = 100) => ({ temp, rpm, lat: 35.05, lng: -118.3, timestamp: T0 + atMs });
  /** Readings every `stepMs` from `fromMs` to `toMs` inclusive. */
  const readings = (fromMs: number, toMs: number, stepMs: number, temp = 60, rpm = 100) => {
    const out = [];
    for (let t = fromMs; t <= toMs; t += stepMs) out.push(reading(t, temp, rpm));
    return out;
  };
  const state = (id: string) => wb.state<WindTurbineState>('wind-turbine', id)!;
  return { reading, readings, state };
}

describe('Conditions', () => {
  it('starts over-temperature above 100 °C, not at 100', async () => {
    const { reading, state } = await turbines();
    await wb.send('wind-turbine', 'far', reading(0, 100));
    expect(state('far').highTemperature).toBeNull();
    await wb.send('wind-turbine', 'far', reading(S, 100.5));
    expect(state('far').highTemperature).toEqual({ since: T0 + S, warnings: 1, lastNotifiedAt: null });
    expect(state('far').incidents).toEqual([{ type: 'HighTemperature', status: 'Started', startTime: T0 + S, endTime: null, warnings: 0 }]);
  });

  it('starts low speed below 60 rpm, not at 60', async () => {
    const { reading, state } = await turbines();
    await wb.send('wind-turbine', 'far', reading(0, 60, 60));
    expect(state('far').lowRpm).toBeNull();
    await wb.send('wind-turbine', 'far', reading(S, 60, 59.9));
    expect(state('far').lowRpm).toMatchObject({ since: T0 + S, warnings: 1 });
    expect(state('far').incidents.map((i) => [i.type, i.status])).toEqual([['LowRPM', 'Started']]);
  });

  it('reports a condition that lasts more than 20 s, not one of exactly 20 s', async () => {
    const { reading } = await turbines();
    await wb.send('wind-turbine', 'far', [reading(0, 110), reading(10 * S, 110), reading(20 * S, 110)]);
    expect(wb.commands).toHaveLength(0);
    expect(wb.alerts).toHaveLength(0);
    await wb.send('wind-turbine', 'far', reading(20 * S + 1, 110));
    expect(wb.commands.map((c) => c.command)).toEqual([{ type: 'HighTemperature', durationMs: 20 * S + 1, inPreMaintenance: false, warnings: 4 }]);
    expect(wb.alerts).toHaveLength(1);
    expect(wb.alerts[0]).toMatchObject({ severity: 'ERROR', twinId: 'far', data: { type: 'HighTemperature', durationMs: 20 * S + 1 } });
  });

  it('reports after more than 10 s inside the pre-maintenance period, not at exactly 10 s', async () => {
    const { reading, state } = await turbines();
    await wb.send('wind-turbine', 'pre', [reading(0, 60, 40), reading(10 * S, 60, 40)]);
    expect(state('pre').inPreMaintenance).toBe(true);
    expect(wb.commands).toHaveLength(0);
    await wb.send('wind-turbine', 'pre', reading(10 * S + 1, 60, 40));
    expect(wb.commands.map((c) => c.command)).toEqual([{ type: 'LowRPM', durationMs: 10 * S + 1, inPreMaintenance: true, warnings: 3 }]);
    expect(wb.alerts.map((a) => a.severity)).toEqual(['ERROR']);
  });

  it('repeats the report at most once every 30 s while the condition lasts', async () => {
    const { readings } = await turbines();
    await wb.send('wind-turbine', 'far', readings(0, 81 * S, S, 120));
    expect(wb.commands.map((c) => (c.command as { durationMs: number }).durationMs)).toEqual([21 * S, 51 * S, 81 * S]);
    expect(wb.commands.map((c) => (c.command as { warnings: number }).warnings)).toEqual([22, 52, 82]);
    expect(wb.alerts).toHaveLength(3);
  });

  it('repeats after 30 s even when readings are sparse', async () => {
    const { reading } = await turbines();
    await wb.send('wind-turbine', 'far', [reading(0, 120), reading(25 * S, 120), reading(54 * S, 120), reading(55 * S, 120)]);
    expect(wb.commands.map((c) => (c.command as { durationMs: number }).durationMs)).toEqual([25 * S, 55 * S]);
  });

  it('records recovery as Resolved and starts afresh at the next onset', async () => {
    const { reading, readings, state } = await turbines();
    await wb.send('wind-turbine', 'far', readings(0, 25 * S, 5 * S, 120));
    expect(wb.commands).toHaveLength(1);
    await wb.send('wind-turbine', 'far', reading(30 * S, 100));
    expect(state('far').highTemperature).toBeNull();
    expect(state('far').incidents).toEqual([{ type: 'HighTemperature', status: 'Resolved', startTime: T0, endTime: T0 + 30 * S, warnings: 6 }]);
    // a new episode: its own 20 s before it reports
    await wb.send('wind-turbine', 'far', readings(31 * S, 51 * S, 5 * S, 120));
    expect(wb.commands).toHaveLength(1);
    await wb.send('wind-turbine', 'far', reading(51 * S + 1, 120));
    expect(wb.commands).toHaveLength(2);
    expect(state('far').incidents.map((i) => i.status)).toEqual(['Resolved', 'Started']);
  });

  it('tracks over-temperature and low speed independently', async () => {
    const { reading, readings, state } = await turbines();
    await wb.send('wind-turbine', 'far', readings(0, 21 * S, 3 * S, 130, 20));
    expect(wb.commands.map((c) => (c.command as { type: string }).type).sort()).toEqual(['HighTemperature', 'LowRPM']);
    await wb.send('wind-turbine', 'far', reading(22 * S, 130, 90));
    expect(state('far').lowRpm).toBeNull();
    expect(state('far').highTemperature).toMatchObject({ since: T0 });
    expect(state('far').incidents.map((i) => `${i.type}:${i.status}`)).toEqual(['HighTemperature:Started', 'LowRPM:Resolved']);
  });
});

describe('Pre-maintenance period', () => {
  it.each([
    ['A', 90],
    ['B', 120],
    ['C', 150],
  ] as const)('model %s: starts %i days before the next maintenance', async (model: TurbineModel, days: number) => {
    const nextMaintenance = new Date(T0 + days * DAY).toISOString();
    const { reading, state } = await turbines([{ id: 't', turbineModel: model, nextMaintenance }]);
    await wb.send('wind-turbine', 't', reading(-1));
    expect(state('t').inPreMaintenance).toBe(false);
    await wb.send('wind-turbine', 't', reading(0));
    expect(state('t').inPreMaintenance).toBe(true);
  });

  it('stays in force once the maintenance date has passed (overdue)', async () => {
    const { reading, state } = await turbines([{ id: 't', turbineModel: 'B', nextMaintenance: '2025-12-01' }]);
    await wb.send('wind-turbine', 't', reading(0));
    expect(state('t').inPreMaintenance).toBe(true);
  });

  it('does not apply to a turbine without parameters', async () => {
    const { reading, state } = await turbines([]);
    await wb.send('wind-turbine', 'x', [reading(0, 120), reading(15 * S, 120)]);
    expect(state('x')).toMatchObject({ turbineModel: null, paramsSource: null, inPreMaintenance: false });
    expect(wb.commands).toHaveLength(0);
  });

  it('takes parameters from reference data', async () => {
    const { reading, state } = await turbines();
    await wb.send('wind-turbine', 'pre', reading(0));
    expect(state('pre')).toMatchObject({ turbineModel: 'A', nextMaintenance: '2026-03-01', paramsSource: 'reference' });
  });

  it('lets an init message override reference data', async () => {
    const { reading, state } = await turbines();
    await wb.send('wind-turbine', 'far', { type: 'init', turbineModel: 'C', nextMaintenance: '2026-02-01' });
    expect(state('far')).toMatchObject({ turbineModel: 'C', nextMaintenance: '2026-02-01', paramsSource: 'init' });
    await wb.send('wind-turbine', 'far', [reading(0, 120), reading(10 * S + 1, 120)]);
    expect(wb.commands.map((c) => c.command)).toEqual([{ type: 'HighTemperature', durationMs: 10 * S + 1, inPreMaintenance: true, warnings: 2 }]);
  });

  it('reads the shipped turbines.csv when no rows are given', async () => {
    wb = await createWorkbench({ models: [windTurbine], start: T0 });
    await wb.send('wind-turbine', 'wt-002', { temp: 50, rpm: 90, timestamp: T0 });
    expect(wb.state<WindTurbineState>('wind-turbine', 'wt-002')).toMatchObject({
      turbineModel: 'B',
      nextMaintenance: '2026-09-01',
      paramsSource: 'reference',
      inPreMaintenance: false,
    });
  });
});

describe('History', () => {
  it('keeps the last 2,000 readings', async () => {
    const { readings, state } = await turbines();
    await wb.send('wind-turbine', 'far', readings(0, (MAX_READINGS + 4) * S, S));
    const kept = state('far').readings;
    expect(kept).toHaveLength(MAX_READINGS);
    expect(kept[0]!.time).toBe(T0 + 5 * S);
    expect(kept.at(-1)!.time).toBe(T0 + (MAX_READINGS + 4) * S);
  });

  it('averages temp and rpm over tumbling one-hour windows, across batches', async () => {
    const { reading, state } = await turbines();
    await wb.send('wind-turbine', 'far', reading(10 * MIN, 10, 100));
    await wb.send('wind-turbine', 'far', [reading(50 * MIN, 20, 200), reading(HOUR, 30, 90)]);
    await wb.send('wind-turbine', 'far', reading(59 * MIN, 30, 300));
    expect(state('far').hourly).toEqual([
      { start: T0, count: 3, avgTemp: 20, avgRpm: 200 },
      { start: T0 + HOUR, count: 1, avgTemp: 30, avgRpm: 90 },
    ]);
  });

  it('keeps the hourly averages of the last 24 hours only', async () => {
    const { readings, state } = await turbines();
    await wb.send('wind-turbine', 'far', readings(30 * MIN, 29 * HOUR + 30 * MIN, HOUR));
    const hourly = state('far').hourly;
    expect(hourly).toHaveLength(24);
    expect(hourly[0]!.start).toBe(T0 + 6 * HOUR);
    expect(hourly.at(-1)!.start).toBe(T0 + 29 * HOUR);
  });
});

describe('Twin', () => {
  it('is placed where its readings say', async () => {
    const { reading } = await turbines();
    await wb.send('wind-turbine', 'far', reading(0));
    expect(wb.twin('wind-turbine', 'far')).toMatchObject({ lat: 35.05, lng: -118.3 });
  });

  it('refuses a reading without rpm, naming the field', async () => {
    await turbines();
    await expect(wb.send('wind-turbine', 'far', { temp: 40, timestamp: T0 })).rejects.toMatchObject({
      code: 'INVALID_MESSAGE',
      message: expect.stringContaining('rpm'),
    });
  });

  it('refuses an init message with an unknown turbine model, naming the field', async () => {
    await turbines();
    await expect(wb.send('wind-turbine', 'far', { type: 'init', turbineModel: 'D', nextMaintenance: '2026-05-01' })).rejects.toMatchObject({
      code: 'INVALID_MESSAGE',
      message: expect.stringContaining('turbineModel'),
    });
  });
});

/** A steady level with a little noise (`base` - 2 … `base` + 2), the same on every run. */
const wobble = (base: number, i: number) => base + (((i * 7) % 5) - 2);

describe('Anomaly detectors (in addition to the conditions)', () => {
  it('raise nothing on steady, slightly noisy readings', async () => {
    const { reading, state } = await turbines();
    await wb.send(
      'wind-turbine',
      'far',
      Array.from({ length: 300 }, (_, i) => reading(i * S, wobble(60, i), wobble(100, i + 1))),
    );
    expect(wb.alerts).toEqual([]);
    expect(state('far')).toMatchObject({ anomalyCount: 0, tempAnomaly: false, lastAnomaly: null });
  });

  it('raise one WARNING for a run of unusual temperatures below the limit, and none of the specified commands', async () => {
    const { reading, state } = await turbines();
    const temps = Array.from({ length: 60 }, (_, i) => wobble(60, i));
    temps[40] = temps[41] = temps[42] = 95;
    await wb.send(
      'wind-turbine',
      'far',
      temps.slice(0, 41).map((t, i) => reading(i * S, t)),
    );
    expect(state('far').tempAnomaly).toBe(true);
    await wb.send(
      'wind-turbine',
      'far',
      temps.slice(41).map((t, i) => reading((41 + i) * S, t)),
    );
    expect(wb.alerts.map((a) => [a.severity, a.title])).toEqual([['WARNING', TEMP_ANOMALY_TITLE]]);
    expect(wb.alerts[0]!.data).toMatchObject({ temp: 95, at: T0 + 40 * S });
    expect(wb.commands).toEqual([]);
    expect(state('far')).toMatchObject({ tempAnomaly: false, highTemperature: null, lastAnomaly: { kind: 'temperature', value: 95 } });
  });

  it('leave an over-temperature fault and its recovery to the specified ERROR alerts', async () => {
    const { reading, state } = await turbines();
    const temp = (i: number) => (i >= 60 && i < 100 ? 110 : wobble(60, i));
    await wb.send(
      'wind-turbine',
      'far',
      Array.from({ length: 160 }, (_, i) => reading(i * S, temp(i))),
    );
    expect(wb.alerts.map((a) => a.title)).toEqual(['Turbine over temperature']);
    expect(state('far')).toMatchObject({ anomalyCount: 0, highTemperature: null });
  });

  it('raise an INFO within 5 readings when the rotor speed settles at a new level', async () => {
    const { reading, state } = await turbines();
    await wb.send(
      'wind-turbine',
      'far',
      Array.from({ length: 120 }, (_, i) => reading(i * S, 60, wobble(i < 60 ? 100 : 80, i))),
    );
    expect(wb.alerts.map((a) => [a.severity, a.title])).toEqual([['INFO', RPM_SHIFT_TITLE]]);
    const at = (wb.alerts[0]!.data as { at: number; direction: string }).at - T0;
    expect(at).toBeGreaterThanOrEqual(60 * S);
    expect(at).toBeLessThanOrEqual(65 * S);
    expect(wb.alerts[0]!.data).toMatchObject({ direction: 'down' });
    expect(wb.commands).toEqual([]);
    expect(state('far').lowRpm).toBeNull();
  });
});
