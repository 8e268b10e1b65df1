import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { Engine } from '../src/engine/engine.js';
import { VirtualClock } from '../src/engine/clock.js';
import { LmdbStore } from '../src/store/lmdb-store.js';
import { createWorkbench, WORKBENCH_EPOCH, type Workbench } from '../src/workbench.js';
import { gasSensor, LEVEL_SHIFT_TITLE, SHUTDOWN_COMMAND, UNUSUAL_READING_TITLE, type GasSensorState } from './gas-sensor.js';

const MIN = 60_000;
let wb: Workbench;
afterEach(() => wb?.close());

async function bench() {
  wb = await createWorkbench({ models: [gasSensor] });
  const t0 = wb.now();
  const read = (ppm: number, atMs = 0, extra: object = {}) => ({ ppm, timestamp: t0 + atMs, ...extra });
  const state = () => wb.state<GasSensorState>('gas-sensor', 's1')!;
  return { t0, read, state };
}

describe('Exceedance episodes', () => {
  it('starts an episode above 50 ppm, not at 50', async () => {
    const { t0, read, state } = await bench();
    await wb.send('gas-sensor', 's1', read(50));
    expect(state()).toMatchObject({ ppm: 50, limitExceeded: false, limitStartTime: null, numEvents: 0 });
    await wb.send('gas-sensor', 's1', read(51, 1000));
    expect(state()).toMatchObject({ ppm: 51, lastTime: t0 + 1000, limitExceeded: true, limitStartTime: t0 + 1000, numEvents: 1 });
  });

  it('counts an episode once however many readings it spans, and a new one after re-arming', async () => {
    const { read, state } = await bench();
    await wb.send('gas-sensor', 's1', [read(60), read(120, 1000), read(80, 2000)]);
    expect(state().numEvents).toBe(1);
    await wb.send('gas-sensor', 's1', [read(50, 3000), read(60, 4000)]);
    expect(state().numEvents).toBe(2);
  });

  it('keeps the start time of the episode while it lasts', async () => {
    const { t0, read, state } = await bench();
    await wb.send('gas-sensor', 's1', [read(60), read(70, 5 * MIN)]);
    expect(state().limitStartTime).toBe(t0);
  });
});

describe('Alarm', () => {
  it('sounds at 200 ppm but not at 199', async () => {
    const { read, state } = await bench();
    await wb.send('gas-sensor', 's1', read(199));
    expect(wb.commands).toHaveLength(0);
    expect(wb.alerts).toHaveLength(0);
    expect(state().alarmSounded).toBe(false);
    await wb.send('gas-sensor', 's1', read(200, 1000));
    expect(state().alarmSounded).toBe(true);
    expect(wb.commands.map((c) => c.command)).toEqual([SHUTDOWN_COMMAND]);
    expect(wb.alerts).toHaveLength(1);
    expect(wb.alerts[0]).toMatchObject({ model: 'gas-sensor', twinId: 's1', severity: 'CRITICAL' });
  });

  it('sends exactly the documented shutdown command', async () => {
    const { read } = await bench();
    await wb.send('gas-sensor', 's1', read(500));
    expect(wb.commands[0]!.command).toEqual({ command: 'shutdown', description: 'Shutdown the incoming gas pipe', code: 100 });
  });

  it('sounds once an exceedance has lasted more than 15 minutes, not at exactly 15', async () => {
    const { read } = await bench();
    await wb.send('gas-sensor', 's1', [read(60), read(70, 15 * MIN)]);
    expect(wb.alerts).toHaveLength(0);
    await wb.send('gas-sensor', 's1', read(70, 15 * MIN + 1));
    expect(wb.alerts).toHaveLength(1);
    expect(wb.commands).toHaveLength(1);
  });

  it('raises one command and one alert per alarm episode', async () => {
    const { read } = await bench();
    await wb.send('gas-sensor', 's1', [read(250), read(300, 1000), read(120, 20 * MIN), read(260, 30 * MIN)]);
    expect(wb.alerts).toHaveLength(1);
    expect(wb.commands).toHaveLength(1);
  });

  it('re-arms after a reading of 50 ppm or less', async () => {
    const { read, state } = await bench();
    await wb.send('gas-sensor', 's1', [read(250), read(50, 1000)]);
    expect(state()).toMatchObject({ limitExceeded: false, limitStartTime: null, alarmSounded: false });
    await wb.send('gas-sensor', 's1', read(250, 2000));
    expect(wb.alerts).toHaveLength(2);
    expect(wb.commands).toHaveLength(2);
    expect(state().numEvents).toBe(2);
  });

  it('does not re-arm on a reading of 51 ppm', async () => {
    const { read } = await bench();
    await wb.send('gas-sensor', 's1', [read(250), read(51, 1000), read(250, 2000)]);
    expect(wb.alerts).toHaveLength(1);
  });

  it('applies the rules message by message inside one batch', async () => {
    const { read } = await bench();
    await wb.send('gas-sensor', 's1', [read(250), read(10, 1000), read(250, 2000)]);
    expect(wb.alerts).toHaveLength(2);
  });

  it('measures duration by event time, whatever the engine clock says', async () => {
    const { t0, state } = await bench();
    await wb.send('gas-sensor', 's1', [
      { ppm: 80, timestamp: new Date(t0 - 60 * MIN).toISOString() },
      { ppm: 80, timestamp: new Date(t0 - 44 * MIN).toISOString() },
    ]);
    expect(wb.now()).toBe(t0);
    expect(state().limitStartTime).toBe(t0 - 60 * MIN);
    expect(wb.alerts).toHaveLength(1);
  });
});

describe('Twin', () => {
  it('is placed where its readings say and keeps its site', async () => {
    const { read } = await bench();
    await wb.send('gas-sensor', 's1', read(10, 0, { lat: 41.88, lng: -87.63, site: 'Chicago North' }));
    const twin = wb.twin('gas-sensor', 's1')!;
    expect([twin.lat, twin.lng]).toEqual([41.88, -87.63]);
    expect((twin.state as GasSensorState).site).toBe('Chicago North');
  });

  it('refuses a reading whose ppm is not a number, naming the field', async () => {
    await bench();
    await expect(wb.send('gas-sensor', 's1', { ppm: 'high', timestamp: 1 })).rejects.toMatchObject({
      code: 'INVALID_MESSAGE',
      message: expect.stringContaining('ppm'),
    });
    expect(wb.twin('gas-sensor', 's1')).toBeUndefined();
  });

  it('refuses a reading without a timestamp, naming the field', async () => {
    await bench();
    await expect(wb.send('gas-sensor', 's1', { ppm: 20 })).rejects.toMatchObject({
      code: 'INVALID_MESSAGE',
      message: expect.stringContaining('timestamp'),
    });
  });
});

/** A steady, slightly noisy level: `base` - 2 … `base` + 2 ppm, the same on every run. */
const steady = (base: number, n: number, from = 0) => Array.from({ length: n }, (_, i) => base + ((((from + i) * 7) % 5) - 2));
const titles = () => wb.alerts.map((a) => a.title);

describe('Anomaly detectors (in addition to the alarm)', () => {
  it('raise nothing on a steady, noisy level', async () => {
    const { read, state } = await bench();
    await wb.send(
      'gas-sensor',
      's1',
      steady(20, 300).map((ppm, i) => read(ppm, i * 1000)),
    );
    expect(wb.alerts).toEqual([]);
    expect(state()).toMatchObject({ anomalyCount: 0, lastAnomaly: null });
  });

  it('raise one WARNING for an isolated unusual reading below the limit, with no command', async () => {
    const { t0, read, state } = await bench();
    const ppms = steady(10, 60);
    ppms[40] = 45;
    await wb.send(
      'gas-sensor',
      's1',
      ppms.map((ppm, i) => read(ppm, i * 1000)),
    );
    expect(wb.alerts.map((a) => [a.severity, a.title])).toEqual([['WARNING', UNUSUAL_READING_TITLE]]);
    expect(wb.alerts[0]!.data).toMatchObject({ ppm: 45, median: 10 });
    expect(wb.commands).toEqual([]);
    expect(state()).toMatchObject({ anomalyCount: 1, lastAnomaly: { kind: 'spike', at: t0 + 40_000, ppm: 45 }, limitExceeded: false, numEvents: 0 });
  });

  it('raise an INFO within 5 readings when the level shifts and stays, naming the direction', async () => {
    const { t0, read, state } = await bench();
    const ppms = [...steady(10, 60), ...steady(35, 60, 60)];
    await wb.send(
      'gas-sensor',
      's1',
      ppms.map((ppm, i) => read(ppm, i * 1000)),
    );
    const shifts = wb.alerts.filter((a) => a.title === LEVEL_SHIFT_TITLE);
    expect(shifts).toHaveLength(1);
    expect(shifts[0]).toMatchObject({ severity: 'INFO', data: { direction: 'up' } });
    const at = (shifts[0]!.data as { at: number }).at - t0;
    expect(at).toBeGreaterThanOrEqual(60_000);
    expect(at).toBeLessThanOrEqual(65_000);
    expect(state().detectors.ppmShift.changes).toBe(1);
  });

  it('leave an exceedance to the specified alarm: one shutdown and one CRITICAL alert, no anomaly', async () => {
    const { read } = await bench();
    await wb.send('gas-sensor', 's1', [...steady(10, 40).map((ppm, i) => read(ppm, i * 1000)), read(250, 41_000)]);
    expect(wb.commands.map((c) => c.command)).toEqual([SHUTDOWN_COMMAND]);
    expect(titles()).toEqual(['Gas leak: pipe shut down']);
  });

  it('keep their state through an LMDB checkpoint and a restart, as if never interrupted', async () => {
    const ppms = [...steady(10, 45), 44, ...steady(10, 30, 46), ...steady(28, 40, 76)];
    const messages = ppms.map((ppm, i) => ({ model: 'gas-sensor', id: 's1', message: { ppm, timestamp: WORKBENCH_EPOCH + i * 1000 } }));
    const dir = mkdtempSync(path.join(tmpdir(), 'hextwin-gas-'));
    const start = async () => {
      const engine = new Engine({
        store: new LmdbStore(dir),
        clock: new VirtualClock(WORKBENCH_EPOCH),
        models: [gasSensor],
        logger: pino({ level: 'silent' }),
        checkpointMs: 0,
      });
      await engine.start();
      return engine;
    };
    const first = await start();
    await first.ingest(messages.slice(0, 60));
    await first.idle();
    await first.checkpoint();
    await first.stop();
    const second = await start();
    expect((second.twin('gas-sensor', 's1')!.state as GasSensorState).detectors.ppmSpike.values).toHaveLength(31);
    await second.ingest(messages.slice(60));
    await second.idle();
    const restarted = second.twin('gas-sensor', 's1')!.state as GasSensorState;
    await second.stop();

    wb = await createWorkbench({ models: [gasSensor] });
    await wb.send(
      'gas-sensor',
      's1',
      messages.map((m) => m.message),
    );
    const uninterrupted = wb.state<GasSensorState>('gas-sensor', 's1')!;
    expect(restarted.anomalyCount).toBeGreaterThanOrEqual(2);
    expect(restarted).toEqual(uninterrupted);
  });
});
