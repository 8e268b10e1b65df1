import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postMessages, pullCommands } from '../kit/rest-client.js';
import { repoRoot, startServer, type ServerHandle } from '../kit/server.js';
import { data } from '../graphql/helpers.js';

const samples = path.join(repoRoot, 'server/models/rules');

/** Poll a GraphQL read until `done` holds; the failure names what was awaited and the last answer. */
async function until<T>(what: string, read: () => Promise<T>, done: (v: T) => boolean, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await read();
    if (done(v)) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not reached within ${ms} ms; last answer ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('Rules models in MODELS_DIR on a real server', () => {
  let server: ServerHandle;
  beforeAll(async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'hextwin-rules-models-'));
    for (const f of ['thermostat.rules.yaml', 'room.rules.yaml', 'gas-sensor.rules.json']) copyFileSync(path.join(samples, f), path.join(dir, f));
    server = await startServer({ env: { MODELS_DIR: dir, HEXTWIN_SAMPLE_MODELS: '0' } });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('runs thermostat readings posted over REST into the room twin, readable and alerting through GraphQL', async () => {
    const now = Date.now();
    await postMessages(server.url, 'thermostat', 't1', { temp: 25, room: 'lab', timestamp: now });
    await postMessages(server.url, 'thermostat', 't2', [
      { temp: 27, room: 'lab', timestamp: now },
      { temp: 29, room: 'lab', timestamp: now + 1000 },
    ]);
    const room = await until(
      'room lab averaging both thermostats',
      () =>
        data<{ twin: { state: { temps: Record<string, number>; average: number; tooWarm: boolean } } | null }>(
          server.url,
          '{ twin(model: "room", id: "lab") { state } }',
        ),
      (d) => d.twin?.state.temps['t2'] === 29 && d.twin.state.temps['t1'] === 25,
    );
    expect(room.twin!.state).toMatchObject({ average: 27, tooWarm: true });
    const alerts = await until(
      'the room alert',
      () =>
        data<{ alerts: { model: string; twinId: string; severity: string; title: string }[] }>(
          server.url,
          '{ alerts(model: "room") { model twinId severity title } }',
        ),
      (d) => d.alerts.length > 0,
    );
    expect(alerts.alerts).toEqual([{ model: 'room', twinId: 'lab', severity: 'WARNING', title: 'Room too warm' }]);
  });

  it('sends the gas-sensor rules model’s shutdown command to a REST device and validates its messages', async () => {
    await postMessages(server.url, 'gas-sensor', 'g1', { ppm: 250, timestamp: Date.now(), lat: 41.9, lng: -87.6 });
    const commands = await until(
      'the shutdown command',
      () => pullCommands(server.url, 'gas-sensor', 'g1'),
      (c) => c.length > 0,
    );
    expect(commands.map((c) => c.command)).toEqual([{ command: 'shutdown', description: 'Shutdown the incoming gas pipe', code: 100 }]);
    const twin = await data<{ twin: { lat: number; state: { alarmSounded: boolean; numEvents: number } } }>(
      server.url,
      '{ twin(model: "gas-sensor", id: "g1") { lat state } }',
    );
    expect(twin.twin).toMatchObject({ lat: 41.9, state: { alarmSounded: true, numEvents: 1 } });
    await expect(postMessages(server.url, 'gas-sensor', 'g1', { ppm: 'high', timestamp: 1 })).rejects.toMatchObject({ code: 'INVALID_MESSAGE' });
  });
});

describe('A broken rules file', () => {
  it('stops the server at start with MODEL_INVALID naming the file and line', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'hextwin-rules-broken-'));
    writeFileSync(path.join(dir, 'oops.rules.yaml'), 'name: oops\nproperties:\n  n: number\nrules:\n  - if: n >> 1\n    then: []\n');
    await expect(startServer({ env: { MODELS_DIR: dir, HEXTWIN_SAMPLE_MODELS: '0' }, readyTimeoutMs: 20_000 })).rejects.toThrow(
      /MODEL_INVALID: .*oops\.rules\.yaml:5: rule 1: expected a value before '>'/,
    );
  });
});

describe('A rules model with an aggregate and a typed alarm on a real server', () => {
  let server: ServerHandle;
  beforeAll(async () => {
    server = await startServer({ env: { MODELS_DIR: path.join(repoRoot, 'test/fixtures/rules-models'), HEXTWIN_SAMPLE_MODELS: '0' } });
  });
  afterAll(async () => {
    await server?.stop();
  });

  type Alarm = { twinId: string; status: string; count: number; title: string; message: string };
  const alarms = () =>
    data<{ alerts: Alarm[] }>(server.url, '{ alerts(model: "zone-meter", type: "over-zone") { twinId status count title message } }').then((d) => d.alerts);
  const meter = (id: string) =>
    data<{ twin: { state: { zoneAvg: number | null; zoneCount: number; high: boolean } } | null }>(
      server.url,
      `{ twin(model: "zone-meter", id: "${id}") { state } }`,
    );

  it("reads its zone's average in a condition, raises the typed alarm once while over it, and clears it when back", async () => {
    for (const id of ['m1', 'm2', 'm3']) await postMessages(server.url, 'zone-meter', id, { zone: 'north', kw: 10 });
    await postMessages(server.url, 'zone-meter', 'x1', { zone: 'south', kw: 500 });
    // m1 keeps reporting until the refreshed aggregate (every 100 ms) has the three north meters
    await until(
      'm1 reading its zone',
      async () => {
        await postMessages(server.url, 'zone-meter', 'm1', { zone: 'north', kw: 10 });
        return meter('m1');
      },
      (d) => d.twin?.state.zoneCount === 3,
    );
    expect((await meter('m1')).twin!.state.zoneAvg).toBe(10);
    expect(await alarms()).toEqual([]);

    // far over the average, twice: one alarm, repeated
    await postMessages(server.url, 'zone-meter', 'm2', { zone: 'north', kw: 100 });
    await postMessages(server.url, 'zone-meter', 'm2', { zone: 'north', kw: 100 });
    const raised = await until('the over-zone alarm', alarms, (a) => a[0]?.count === 2);
    expect(raised).toHaveLength(1);
    expect(raised[0]).toMatchObject({ twinId: 'm2', status: 'ACTIVE', title: 'Over the zone average' });
    expect(raised[0]!.message).toMatch(/^m2 draws 100 kW; zone north averages \d/);

    // back to normal: the rule clears it
    await postMessages(server.url, 'zone-meter', 'm2', { zone: 'north', kw: 10 });
    const cleared = await until('the alarm cleared', alarms, (a) => a[0]?.status === 'CLEARED');
    expect(cleared).toHaveLength(1);
    expect((await meter('m2')).twin!.state.high).toBe(false);
    // the south meter is alone in its zone: never over a zone of three
    expect(cleared.every((a) => a.twinId === 'm2')).toBe(true);
  });
});
