import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { defineModel, type AlertInput, type JsonValue } from '@hextwin/shared';
import { gasSensor, GAS_LEAK_ALARM } from '../../models/gas-sensor.js';
import { LmdbStore } from '../../src/store/lmdb-store.js';
import { createWorkbench, type Workbench } from '../../src/workbench.js';
import { startEngine } from './helpers.js';

/** `{ raise }` raises an alert, `{ clear }` clears a type, `{ set }` merges into the state (sampled into its history). */
const alarms = defineModel<Record<string, JsonValue>, { raise?: AlertInput; clear?: string; set?: Record<string, JsonValue> }>({
  name: 'alarms',
  init: () => ({}),
  process(ctx, state, messages) {
    for (const m of messages) {
      if (m.set) Object.assign(state, m.set);
      if (m.raise) ctx.alert(m.raise);
      if (m.clear) ctx.clearAlert(m.clear);
    }
    return 'update';
  },
  history: { limit: 3 },
});

let wb: Workbench;
afterEach(async () => {
  await wb?.close();
});

const hot = (severity: AlertInput['severity'] = 'WARNING', title = 'hot') => ({ raise: { type: 'temp', severity, title } });

describe('Raise and repeat', () => {
  it('de-duplicates a typed alarm per twin while it is active: one alarm, its count and last time rising', async () => {
    wb = await createWorkbench({ models: [alarms] });
    await wb.send('alarms', 'a', hot());
    const first = wb.now();
    await wb.advance(1_000);
    await wb.send('alarms', 'a', hot());
    await wb.send('alarms', 'a', hot());
    await wb.send('alarms', 'b', hot());
    expect(wb.alerts.map((a) => a.twinId)).toEqual(['a', 'b']);
    const [a] = wb.engine.alerts({ twinId: 'a' });
    expect(a).toMatchObject({ type: 'temp', status: 'ACTIVE', count: 3, firstAt: first, at: first, lastAt: first + 1_000 });
    expect(wb.alarmChanges.map((c) => c.change)).toEqual(['RAISE', 'REPEAT', 'REPEAT', 'RAISE']);
    expect(wb.engine.twinAlerts('alarms', 'a')).toHaveLength(1);
  });

  it('keeps one alarm per alert raised without a type', async () => {
    wb = await createWorkbench({ models: [alarms] });
    await wb.send('alarms', 'a', [{ raise: { severity: 'INFO', title: 'x' } }, { raise: { severity: 'INFO', title: 'x' } }]);
    expect(wb.engine.alerts({ twinId: 'a' }).map((a) => [a.type, a.count])).toEqual([
      [null, 1],
      [null, 1],
    ]);
  });

  it('reports a severity change, and an escalation needs a new acknowledgement', async () => {
    wb = await createWorkbench({ models: [alarms] });
    await wb.send('alarms', 'a', hot('WARNING', 'warm'));
    const id = wb.alerts[0]!.id;
    wb.engine.acknowledgeAlert(id);
    await wb.send('alarms', 'a', hot('CRITICAL', 'burning'));
    expect(wb.engine.alerts({})[0]).toMatchObject({ id, severity: 'CRITICAL', title: 'burning', acknowledged: false, count: 2 });
    wb.engine.acknowledgeAlert(id);
    await wb.send('alarms', 'a', hot('ERROR'));
    expect(wb.engine.alerts({})[0]).toMatchObject({ severity: 'ERROR', acknowledged: true });
    expect(wb.alarmChanges.map((c) => [c.change, c.severity])).toEqual([
      ['RAISE', 'WARNING'],
      ['ACK', 'WARNING'],
      ['SEVERITY', 'CRITICAL'],
      ['ACK', 'CRITICAL'],
      ['SEVERITY', 'ERROR'],
    ]);
  });
});

describe('Clear', () => {
  it('clears the active alarm of a type, and a raise after the clear opens a new alarm', async () => {
    wb = await createWorkbench({ models: [alarms] });
    await wb.send('alarms', 'a', [hot(), hot()]);
    await wb.advance(5_000);
    await wb.send('alarms', 'a', { clear: 'temp' });
    await wb.send('alarms', 'a', { clear: 'temp' }); // nothing active: nothing happens
    await wb.send('alarms', 'a', hot());
    const [reraised, cleared] = wb.engine.alerts({ twinId: 'a' });
    expect(cleared).toMatchObject({ status: 'CLEARED', count: 2, clearedAt: wb.now() });
    expect(reraised).toMatchObject({ status: 'ACTIVE', count: 1 });
    expect(reraised!.id).not.toBe(cleared!.id);
    expect(wb.alarmChanges.map((c) => c.change)).toEqual(['RAISE', 'REPEAT', 'CLEAR', 'RAISE']);
    expect(wb.engine.alerts({ status: 'ACTIVE' }).map((a) => a.id)).toEqual([reraised!.id]);
  });

  it('lets an operator clear, assign and comment, each a change of its own', async () => {
    wb = await createWorkbench({ models: [alarms] });
    await wb.send('alarms', 'a', hot());
    const id = wb.alerts[0]!.id;
    wb.engine.assignAlert(id, 'ann');
    wb.engine.commentAlert(id, 'ann', 'on my way');
    wb.engine.clearAlertById(id);
    wb.engine.clearAlertById(id);
    expect(wb.engine.alerts({})[0]).toMatchObject({ status: 'CLEARED', assignee: 'ann', comments: [{ author: 'ann', text: 'on my way', at: wb.now() }] });
    expect(wb.alarmChanges.map((c) => c.change)).toEqual(['RAISE', 'ASSIGN', 'COMMENT', 'CLEAR']);
    // each change was a copy: the first event still shows the alarm as it was raised
    expect(wb.alarmChanges[0]).toMatchObject({ assignee: null, status: 'ACTIVE' });
    await wb.send('alarms', 'a', hot());
    expect(wb.engine.alerts({ status: 'ACTIVE' })).toHaveLength(1);
  });

  it('the gas sensor clears its leak alarm when a reading re-arms it', async () => {
    wb = await createWorkbench({ models: [gasSensor] });
    await wb.send('gas-sensor', 's1', { ppm: 250, timestamp: wb.now() });
    await wb.send('gas-sensor', 's1', { ppm: 20, timestamp: wb.now() });
    await wb.send('gas-sensor', 's1', { ppm: 300, timestamp: wb.now() });
    expect(wb.engine.alerts({ type: GAS_LEAK_ALARM }).map((a) => a.status)).toEqual(['ACTIVE', 'CLEARED']);
  });
});

describe('Twin history', () => {
  it('keeps the last states of a model that opts in, newest first, sampled at most every everyMs', async () => {
    wb = await createWorkbench({ models: [gasSensor, alarms] });
    for (let i = 0; i < 5; i++) {
      await wb.send('alarms', 'h', { set: { n: i } });
      await wb.advance(10);
    }
    expect(wb.engine.twinHistory('alarms', 'h', 10).map((e) => e.state)).toEqual([{ n: 4 }, { n: 3 }, { n: 2 }]);
    expect(wb.engine.twinHistory('alarms', 'h', 1)).toEqual([{ at: wb.now() - 10, state: { n: 4 } }]);
    // gas-sensor: at most one sample every 10 s, of the fields it picks
    for (const ppm of [10, 11, 12, 13]) {
      await wb.send('gas-sensor', 'g', { ppm, timestamp: wb.now() });
      await wb.advance(4_000);
    }
    expect(wb.engine.twinHistory('gas-sensor', 'g', 50).map((e) => e.state)).toEqual([
      { ppm: 13, limitExceeded: false, alarmSounded: false },
      { ppm: 10, limitExceeded: false, alarmSounded: false },
    ]);
  });

  it('keeps nothing for a model without history, and forgets a removed twin', async () => {
    const plain = defineModel<{ n: number }, { n: number; remove?: boolean }>({
      name: 'plain',
      init: () => ({ n: 0 }),
      process: (_ctx, s, m) => ((s.n = m[0]!.n), 'update'),
    });
    wb = await createWorkbench({ models: [plain, alarms] });
    await wb.send('plain', 'p', { n: 1 });
    expect(wb.engine.twinHistory('plain', 'p', 10)).toEqual([]);
    await wb.send('alarms', 'h', { set: { n: 1 } });
    await wb.engine.removeTwin('alarms', 'h');
    await wb.engine.idle();
    expect(wb.engine.twinHistory('alarms', 'h', 10)).toEqual([]);
    expect([...wb.store.table('history').entries()]).toEqual([]);
  });
});

describe('Restart', () => {
  it('keeps alarms, their de-duplication and the twin history across a restart', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'hextwin-alarms-'));
    const a = await startEngine([alarms], { store: new LmdbStore(dir), checkpointMs: 3_600_000 });
    await a.engine.ingest([{ model: 'alarms', id: 'r', message: { raise: { type: 'temp', severity: 'ERROR', title: 'hot' }, set: { n: 1 } } }]);
    await a.engine.idle();
    await a.clock.advanceTo(a.clock.now() + 1, () => a.engine.idle());
    await a.engine.ingest([{ model: 'alarms', id: 'r', message: { set: { n: 2 } } }]);
    await a.engine.idle();
    const id = a.engine.alerts({})[0]!.id;
    a.engine.assignAlert(id, 'bo');
    await a.engine.stop();

    const b = await startEngine([alarms], { store: new LmdbStore(dir), checkpointMs: 3_600_000 });
    expect(b.engine.alerts({})).toEqual([expect.objectContaining({ id, status: 'ACTIVE', count: 1, assignee: 'bo', type: 'temp' })]);
    expect(b.engine.twinHistory('alarms', 'r', 10).map((e) => e.state)).toEqual([{ n: 2 }, { n: 1 }]);
    await b.engine.ingest([{ model: 'alarms', id: 'r', message: { raise: { type: 'temp', severity: 'ERROR', title: 'hot' } } }]);
    await b.engine.idle();
    expect(b.engine.alerts({})).toEqual([expect.objectContaining({ id, count: 2 })]);
    expect(b.engine.twinHistory('alarms', 'r', 10).map((e) => e.state)).toHaveLength(3);
    await b.engine.stop();
  });
});
