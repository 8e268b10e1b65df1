import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defineModel } from '@hextwin/shared';
import { createWorkbench, type Workbench } from '../../src/workbench.js';
import { Recorder } from '../../src/recording/recorder.js';

const echo = defineModel<{ n: number }, { n: number }>({
  name: 'echo',
  init: () => ({ n: 0 }),
  process(_ctx, state, messages) {
    for (const m of messages) state.n = m.n;
    return 'update';
  },
});
const other = defineModel({ name: 'other', init: () => ({}), process: () => 'none' });

let wb: Workbench;
let dir: string;
let recorder: Recorder;
beforeEach(async () => {
  wb = await createWorkbench({ models: [echo, other] });
  dir = mkdtempSync(path.join(tmpdir(), 'hextwin-rec-'));
  recorder = new Recorder(dir, wb.engine, pino({ level: 'silent' }));
});
afterEach(async () => {
  await recorder.close();
  await wb.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('Recorder', () => {
  it('records only its model, with the engine time of arrival', async () => {
    const r = await recorder.start('echo');
    await wb.send('echo', 'e1', { n: 1 });
    await wb.send('other', 'o1', {});
    await wb.advance(1_000);
    await wb.send('echo', 'e2', [{ n: 2 }, { n: 3 }]);
    await recorder.stop('echo');
    const lines = readFileSync(path.join(dir, r.name), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const t = wb.now() - 1_000;
    expect(lines).toEqual([
      { at: t, model: 'echo', id: 'e1', message: { n: 1 } },
      { at: t + 1_000, model: 'echo', id: 'e2', message: { n: 2 } },
      { at: t + 1_000, model: 'echo', id: 'e2', message: { n: 3 } },
    ]);
    expect(await recorder.list()).toEqual([{ name: r.name, model: 'echo', sizeBytes: expect.any(Number), from: t, to: t + 1_000, active: false }]);
  });

  it('leaves out replayed messages (their file is the recording already)', async () => {
    const r = await recorder.start('echo');
    await wb.replay('{"at":1,"model":"echo","id":"e1","message":{"n":7}}', { speed: 0 });
    await wb.send('echo', 'e1', { n: 8 });
    await recorder.stop('echo');
    const lines = readFileSync(path.join(dir, r.name), 'utf8').trim().split('\n');
    expect(lines.map((l) => JSON.parse(l).message)).toEqual([{ n: 8 }]);
    expect(wb.state('echo', 'e1')).toEqual({ n: 8 });
  });

  it('ends at maxBytes without writing past it', async () => {
    const r = await recorder.start('echo', { maxBytes: 200 });
    for (let i = 0; i < 20; i++) await wb.send('echo', 'e1', { n: i });
    expect(recorder.recording).toBe(0);
    await recorder.close();
    const size = readFileSync(path.join(dir, r.name)).length;
    expect(size).toBeGreaterThan(100);
    expect(size).toBeLessThanOrEqual(200);
  });

  it('ends at maxMs on the engine clock', async () => {
    await recorder.start('echo', { maxMs: 5_000 });
    await wb.send('echo', 'e1', { n: 1 });
    await wb.advance(5_000);
    await wb.send('echo', 'e1', { n: 2 });
    expect(recorder.recording).toBe(0);
    const [info] = await recorder.list();
    expect(info).toMatchObject({ active: false, from: info!.to });
  });

  it('refuses an unknown model and names that are not recordings', async () => {
    await expect(recorder.start('ghost')).rejects.toMatchObject({ code: 'UNKNOWN_MODEL' });
    await expect(recorder.file('../admin-token')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
