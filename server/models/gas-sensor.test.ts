import { afterEach, describe, expect, it } from 'vitest';
import { createWorkbench, type Workbench } from '../src/workbench.js';
import { gasSensor, SHUTDOWN_COMMAND, type GasSensorState } from './gas-sensor.js';

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
