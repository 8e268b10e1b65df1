import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { JsonValue, ModelDefinition } from '@hextwin/shared';
import { gasSensor } from '../../models/gas-sensor.js';
import { loadModelsDir } from '../models-loader.js';
import { createWorkbench, WORKBENCH_EPOCH, type Workbench } from '../workbench.js';
import { compileRulesText, loadRulesFile } from './index.js';

const samples = fileURLToPath(new URL('../../models/rules/', import.meta.url));
const MIN = 60_000;
const benches: Workbench[] = [];
afterEach(async () => {
  for (const wb of benches.splice(0)) await wb.close();
});
async function bench(models: ModelDefinition[]) {
  const wb = await createWorkbench({ models });
  benches.push(wb);
  return wb;
}

/** The fields SAMPLE-MODELS.md specifies for gas-sensor; lat/lng/site only once known. */
function specified(s: Record<string, unknown>) {
  const out: Record<string, unknown> = {};
  for (const k of ['ppm', 'lastTime', 'limitExceeded', 'limitStartTime', 'alarmSounded', 'numEvents']) out[k] = s[k];
  for (const k of ['lat', 'lng', 'site']) if (s[k] !== undefined && s[k] !== null) out[k] = s[k];
  return out;
}

/** Seeded readings around the limits: quiet spells, exceedances, alarms, long episodes, ISO times. */
function readings(seed: number, n: number): JsonValue[] {
  let a = seed;
  const r = () => (a = (Math.imul(a, 1103515245) + 12345) >>> 0) / 2 ** 32;
  let t = WORKBENCH_EPOCH;
  const out: JsonValue[] = [];
  for (let i = 0; i < n; i++) {
    t += Math.floor(r() * 4 * MIN);
    const band = r();
    const ppm = band < 0.4 ? Math.floor(r() * 51) : band < 0.85 ? 51 + Math.floor(r() * 140) : 200 + Math.floor(r() * 300);
    const m: Record<string, JsonValue> = { ppm, timestamp: r() < 0.2 ? new Date(t).toISOString() : t };
    if (r() < 0.1) Object.assign(m, { lat: 41 + r(), lng: -87 - r(), site: `site-${Math.floor(r() * 3)}` });
    out.push(m);
  }
  return out;
}

describe('The gas-sensor rules model', () => {
  const rulesGas = () => loadRulesFile(path.join(samples, 'gas-sensor.rules.json'));

  it('gives the TS model’s state, commands and alarm alerts for the same 2,000 seeded readings', async () => {
    const ts = await bench([gasSensor]);
    const rules = await bench([rulesGas()]);
    const msgs = readings(7, 2_000);
    for (let i = 0; i < msgs.length; i += 37) {
      const batch = msgs.slice(i, i + 37);
      await ts.send('gas-sensor', 's1', batch);
      await rules.send('gas-sensor', 's1', batch);
      expect(specified(rules.state('gas-sensor', 's1')!), `after reading ${i + batch.length}`).toEqual(specified(ts.state('gas-sensor', 's1')!));
    }
    const alarm = (wb: Workbench) => wb.alerts.filter((x) => x.severity === 'CRITICAL').map((x) => [x.title, x.message, x.data, x.at]);
    expect(alarm(ts).length).toBeGreaterThan(10);
    expect(alarm(rules)).toEqual(alarm(ts));
    expect(rules.alerts.every((x) => x.severity === 'CRITICAL')).toBe(true);
    // the same alarm lifecycle: each raised with type gas-leak and cleared by the reading that re-arms it
    const lifecycle = (wb: Workbench) =>
      wb.alarmChanges.filter((x) => x.type === 'gas-leak').map((x) => [x.change, x.status, x.count, x.at, x.clearedAt ?? null]);
    expect(lifecycle(ts).filter(([c]) => c === 'CLEAR').length).toBeGreaterThan(10);
    expect(lifecycle(rules)).toEqual(lifecycle(ts));
    expect(rules.commands.map((c) => c.command)).toEqual(ts.commands.map((c) => c.command));
    expect(rules.twin('gas-sensor', 's1')!.lat).toBe(ts.twin('gas-sensor', 's1')!.lat);
  });

  it('refuses the same invalid readings, naming the field', async () => {
    const rules = await bench([rulesGas()]);
    await expect(rules.send('gas-sensor', 's1', { ppm: 'high', timestamp: 1 })).rejects.toMatchObject({
      code: 'INVALID_MESSAGE',
      message: expect.stringContaining('ppm'),
    });
    await expect(rules.send('gas-sensor', 's1', { ppm: 20 })).rejects.toMatchObject({ code: 'INVALID_MESSAGE', message: expect.stringContaining('timestamp') });
  });
});

describe('The two-model basic simulation (thermostat → room)', () => {
  const pair = () => [loadRulesFile(path.join(samples, 'thermostat.rules.yaml')), loadRulesFile(path.join(samples, 'room.rules.yaml'))];
  const reading = (wb: Workbench, temp: number, room = 'kitchen') => ({ temp, room, timestamp: wb.now() });

  it('averages the thermostats of a room and alerts once when it is too warm, once when it is back', async () => {
    const wb = await bench(pair());
    await wb.send('thermostat', 't1', reading(wb, 24));
    await wb.send('thermostat', 't2', reading(wb, 26));
    expect(wb.state('room', 'kitchen')).toMatchObject({ temps: { t1: 24, t2: 26 }, average: 25, tooWarm: false, history: [24, 25] });
    await wb.send('thermostat', 't2', reading(wb, 30));
    await wb.send('thermostat', 't1', reading(wb, 25));
    expect(wb.state('room', 'kitchen')).toMatchObject({ average: 27.5, tooWarm: true });
    expect(wb.alerts.map((a) => [a.model, a.twinId, a.severity, a.title, a.message])).toEqual([
      ['room', 'kitchen', 'WARNING', 'Room too warm', 'average 27 °C over 2 thermostat(s), above 26 °C'],
    ]);
    await wb.send('thermostat', 't2', reading(wb, 24));
    expect(wb.alerts.map((a) => a.title)).toEqual(['Room too warm', 'Room back to normal']);
  });

  it('reports a thermostat silent for 10 minutes, once, and drops it from the room’s average', async () => {
    const wb = await bench(pair());
    await wb.send('thermostat', 't1', reading(wb, 22));
    await wb.send('thermostat', 't2', reading(wb, 24));
    await wb.advance(5 * MIN);
    await wb.send('thermostat', 't2', reading(wb, 24));
    await wb.advance(5 * MIN + 1);
    expect(wb.alerts.map((a) => [a.twinId, a.title])).toEqual([['t1', 'Thermostat silent']]);
    expect(wb.state('thermostat', 't1')).toMatchObject({ silent: true });
    expect(wb.state('room', 'kitchen')).toMatchObject({ temps: { t2: 24 }, average: 24 });
    await wb.advance(30 * MIN);
    expect(wb.alerts.map((a) => [a.twinId, a.title])).toEqual([
      ['t1', 'Thermostat silent'],
      ['t2', 'Thermostat silent'],
    ]);
    expect(wb.state('room', 'kitchen')).toMatchObject({ temps: {}, average: null });
  });

  it('are found in a models directory beside code models', async () => {
    const names = (await loadModelsDir(samples)).map((m) => m.name);
    expect(names).toEqual(['gas-sensor', 'room', 'thermostat']);
  });
});

describe('Load-time errors', () => {
  const load = (file: string, text: string) => () => compileRulesText(file, text);
  const json = (rules: unknown, extra: Record<string, unknown> = {}) =>
    JSON.stringify({ name: 'm', properties: { n: { type: 'number', default: 0 }, tags: 'list' }, rules, ...extra }, null, 2);

  it('name the file and line of a JSON syntax error', () => {
    expect(load('bad.rules.json', '{\n  "name": "m",\n  "rules": [\n    { "then": [] ]\n}')).toThrow(/^bad\.rules\.json:4: expected ',' or '}' \(column 18\)$/);
  });

  it('name the line of an unknown property in a JSON set action', () => {
    const text = json([{ then: [{ set: { n: 'n + 1' } }, { set: { count: '1' } }] }]);
    const line = text.split('\n').findIndex((l) => l.includes('"count"')) + 1;
    expect(load('a.rules.json', text)).toThrow(new RegExp(`^a\\.rules\\.json:${line}: rule 1: "count" is not a property`));
  });

  it('name the line and column of a bad expression', () => {
    const text = json([{ name: 'bump', if: 'n > ', then: [] }]);
    const line = text.split('\n').findIndex((l) => l.includes('"if"')) + 1;
    expect(load('a.rules.json', text)).toThrow(`a.rules.json:${line}: rule "bump": expected a value at the end (column 5 of "n > ")`);
  });

  it('refuse unknown names and functions when loading, not at the first message', () => {
    expect(load('a.rules.json', json([{ if: 'm > 1', then: [] }]))).toThrow(/unknown name 'm'/);
    expect(load('a.rules.json', json([{ then: [{ set: { n: 'eval("1")' } }] }]))).toThrow(/unknown function 'eval'/);
    expect(load('a.rules.json', json([{ on: 'timer t', then: [{ set: { n: 'message.x' } }] }]))).toThrow(/'message' is not available in a timer rule/);
  });

  it('refuse an aggregate the model does not declare, naming it, its line and column', () => {
    const text = json([{ if: "aggregate('byZone', 'a') != null", then: [] }]);
    const line = text.split('\n').findIndex((l) => l.includes('"if"')) + 1;
    expect(load('a.rules.json', text)).toThrow(
      `a.rules.json:${line}: rule 1: aggregate 'byZone' is not declared under "aggregates" (declared: none) (column 11 of "aggregate('byZone', 'a') != null")`,
    );
    const declared = { aggregates: { byZone: { model: 'm', groupBy: 'zone' } } };
    expect(load('a.rules.json', json([{ if: 'aggregate(n) != null', then: [] }], declared))).toThrow(
      /aggregate\(\) takes the aggregate's name as a quoted text first/,
    );
    expect(load('a.rules.json', json([{ then: [] }], { aggregates: { byZone: { model: 'm', metrics: [{ op: 'AVG' }] } } }))).toThrow(/AVG needs a field/);
    expect(load('a.rules.json', json([{ then: [] }], { aggregates: { byZone: { groupBy: 'zone' } } }))).toThrow(/model must name the model aggregated/);
  });

  it('refuse an alert type or clearAlert that is not an alarm type name', () => {
    const alert = (type: unknown) => json([{ then: [{ alert: { severity: 'INFO', title: 'x', type } }] }]);
    expect(load('a.rules.json', alert('has space'))).toThrow(/an alert type is a name of 1 to 64/);
    expect(load('a.rules.json', alert(7))).toThrow(/an alert type is a name of 1 to 64/);
    const text = json([{ then: [{ clearAlert: { type: 'x' } }] }]);
    const line = text.split('\n').findIndex((l) => l.includes('"clearAlert"')) + 1;
    expect(load('a.rules.json', text)).toThrow(`a.rules.json:${line}: rule 1: clearAlert takes the type of the alarm to clear`);
  });

  it('name the line of a YAML syntax error and of a YAML mistake', () => {
    expect(load('b.rules.yaml', 'name: m\nrules:\n  - then: [\n')).toThrow(/^b\.rules\.yaml:\d+: /);
    const yaml = 'name: m\nproperties:\n  n: number\nrules:\n  - then:\n      - alert:\n          severity: LOUD\n          title: x\n';
    expect(load('b.rules.yaml', yaml)).toThrow(/^b\.rules\.yaml:7: rule 1: severity must be one of INFO, WARNING, ERROR, CRITICAL$/);
  });

  it('carry the MODEL_INVALID code, and fail the models directory that holds the file', async () => {
    expect(load('a.rules.json', '[]')).toThrow(expect.objectContaining({ code: 'MODEL_INVALID' }));
    const dir = mkdtempSync(path.join(tmpdir(), 'hextwin-rules-'));
    writeFileSync(path.join(dir, 'broken.rules.yml'), 'name: broken\nrules: []\n');
    await expect(loadModelsDir(dir)).rejects.toThrow(/broken\.rules\.yml:2: "rules" must be a non-empty list/);
  });
});

describe('Run-time behaviour', () => {
  const model = (rules: unknown, properties: Record<string, unknown> = { n: { type: 'number', default: 0 } }) =>
    compileRulesText('r.rules.json', JSON.stringify({ name: 'r', properties, rules }, null, 2));

  it('fails the batch alone with MODEL_ERROR naming file and line when a value has the wrong type', async () => {
    const wb = await bench([model([{ then: [{ set: { n: 'message.v' } }] }])]);
    await wb.send('r', 'a', { v: 'text' });
    expect(wb.errors).toHaveLength(1);
    expect(String((wb.errors[0]!.error as Error).message)).toMatch(/^r\.rules\.json:\d+ \(rule 1\): n is a number, cannot hold "text"$/);
    await wb.send('r', 'a', { v: 3 });
    expect(wb.state('r', 'a')).toEqual({ n: 3 });
  });

  it('evaluate with the documented precedence, null semantics and collection functions', async () => {
    const wb = await bench([
      model(
        [
          {
            then: [
              {
                set: {
                  a: '1 + 2 * 3 - 4 / 2',
                  b: 'message.missing > 1 or message.missing == null',
                  c: "'n=' + (2 + 3) + ', ' + len([1, 2, 3]) + ', ' + avg([2, 4]) + ', ' + max(values({x: 1, y: 9}))",
                  d: 'message.list[-1] + message.obj.k',
                  e: 'message.constructor == null and message.obj.toString == null',
                  f: 'contains(keys(message.obj), "k") ? round(2.345, 2) : 0',
                },
              },
            ],
          },
        ],
        { a: 'number', b: 'boolean', c: 'string', d: 'number', e: 'boolean', f: 'number' },
      ),
    ]);
    await wb.send('r', 'x', { list: [1, 2, 5], obj: { k: 10 } });
    expect(wb.state('r', 'x')).toEqual({ a: 5, b: true, c: 'n=5, 3, 3, 9', d: 15, e: true, f: 2.35 });
  });
});
