import { afterEach, describe, expect, it } from 'vitest';
import { defineModel, Severity } from '@hextwin/shared';
import { createWorkbench, type Workbench } from '../../src/workbench.js';
import { parseRecording } from '../../src/recording/replay.js';

let wb: Workbench | undefined;
afterEach(async () => {
  await wb?.close();
  wb = undefined;
});

/** A gauge that alerts above a threshold and notes the engine time of each reading. */
const gauge = (threshold: number) =>
  defineModel<{ times: number[] }, { level: number }>({
    name: 'gauge',
    init: () => ({ times: [] }),
    process(ctx, state, messages) {
      for (const m of messages) {
        state.times.push(ctx.now());
        if (m.level > threshold) ctx.alert({ severity: Severity.WARNING, title: `level ${m.level}` });
      }
      return 'update';
    },
  });

const T = Date.parse('2026-03-01T00:00:00Z');
const storm = [
  { at: T, model: 'gauge', id: 'g1', message: { level: 3 } },
  { at: T + 60_000, model: 'gauge', id: 'g1', message: { level: 7 } },
  { at: T + 120_000, model: 'gauge', id: 'g2', message: { level: 9 } },
]
  .map((l) => JSON.stringify(l))
  .join('\n');

describe('wb.replay', () => {
  it('plays the recorded messages on the virtual clock at the chosen speed', async () => {
    wb = await createWorkbench({ models: [gauge(5)] });
    const start = wb.now();
    expect(await wb.replay(storm, { speed: 60 })).toEqual({ messages: 3, refused: 0 });
    // a minute apart when recorded, a second apart at 60x
    expect(wb.state<{ times: number[] }>('gauge', 'g1')!.times).toEqual([start, start + 1_000]);
    expect(wb.state<{ times: number[] }>('gauge', 'g2')!.times).toEqual([start + 2_000]);
  });

  it("replays yesterday's storm with a new threshold (what-if)", async () => {
    wb = await createWorkbench({ models: [gauge(5)] });
    await wb.replay(storm.split('\n'), { speed: 0 });
    expect(wb.alerts.map((a) => a.title)).toEqual(['level 7', 'level 9']);
    await wb.close();
    wb = await createWorkbench({ models: [gauge(8)] });
    await wb.replay(storm.split('\n'), { speed: 0 });
    expect(wb.alerts.map((a) => a.title)).toEqual(['level 9']);
  });

  it('names the first bad line of a recording', () => {
    expect(() => parseRecording('{"at":1,"model":"gauge","id":"g1","message":{}}\n{"at":"x"}')).toThrow(/line 2/);
    expect(() => parseRecording('not json')).toThrow(/line 1 is not JSON/);
  });
});
