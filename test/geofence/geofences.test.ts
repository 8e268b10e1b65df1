/**
 * Geofences end to end: a real server, twins moved over REST, events on the GraphQL subscription,
 * alarms through the alarm lifecycle, fences from GEOFENCES_FILE and from putGeofence surviving a
 * restart, and bad fences refused with GEOFENCE_INVALID and counted in /metrics.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type ServerHandle } from '../kit/server.js';
import { metric } from '../kit/metrics.js';
import { codeOf, data, eventually, fixtureModels, gql, subscribe, wsClient } from '../graphql/helpers.js';

const square = (w: number, s: number, e: number, n: number) => ({
  type: 'Polygon',
  coordinates: [
    [
      [w, s],
      [e, s],
      [e, n],
      [w, n],
      [w, s],
    ],
  ],
});

async function move(url: string, id: string, lat: number, lng: number): Promise<void> {
  const r = await fetch(`${url}/api/v1/messages/sensor/${id}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ set: { lat, lng } }),
  });
  expect(r.status).toBe(202);
}

const PUT = 'mutation($i: GeofenceInput!) { putGeofence(input: $i) { name model source dwellMs alarm { severity type } bbox geometry } }';
const EVENTS = 'subscription($f: String, $m: String) { geofenceEvents(fence: $f, model: $m) { kind fence model twinId lat lng dwellMs at } }';

let server: ServerHandle;
const fenceFile = path.join(mkdtempSync(path.join(tmpdir(), 'hextwin-fences-')), 'fences.json');

beforeAll(async () => {
  writeFileSync(
    fenceFile,
    JSON.stringify({
      type: 'FeatureCollection',
      features: [{ type: 'Feature', properties: { name: 'hq', model: 'sensor', radiusM: 1000 }, geometry: { type: 'Point', coordinates: [20, 20] } }],
    }),
  );
  server = await startServer({ env: { MODELS_DIR: fixtureModels, HEXTWIN_SAMPLE_MODELS: '0', GEOFENCES_FILE: fenceFile } });
});
afterAll(async () => {
  await server?.stop();
});

describe('Events', () => {
  it('sends ENTER and EXIT on the subscription as a twin moves in and out over REST', async () => {
    await data(server.url, PUT, { i: { name: 'yard', model: 'sensor', shape: square(10, 10, 11, 11) } });
    const client = wsClient(server.url);
    const sub = subscribe(client, EVENTS, { f: 'yard' });
    const other = subscribe(client, EVENTS, { f: 'hq' });
    // the subscriptions are live once a later request has been answered
    await data(server.url, '{ status { ready } }');
    await new Promise((r) => setTimeout(r, 100));
    await move(server.url, 'g1', 5, 5);
    await move(server.url, 'g1', 10.5, 10.5);
    expect((await sub.next()).data.geofenceEvents).toMatchObject({ kind: 'ENTER', fence: 'yard', model: 'sensor', twinId: 'g1', lat: 10.5, lng: 10.5, dwellMs: null });
    await eventually(async () => expect((await data(server.url, '{ twin(model: "sensor", id: "g1") { geofences } }')).twin.geofences).toEqual(['yard']));
    await move(server.url, 'g1', 10.6, 10.6);
    await move(server.url, 'g1', 12, 12);
    expect((await sub.next()).data.geofenceEvents).toMatchObject({ kind: 'EXIT', fence: 'yard', twinId: 'g1', lat: 12, lng: 12 });
    expect(await other.quiet(200)).toBe(true);
    await client.dispose();
  });

  it('sends DWELL after the fence dwellMs while the twin stays inside', async () => {
    await data(server.url, PUT, { i: { name: 'gate', shape: { center: [30, 30], radiusM: 500 }, dwellMs: 300 } });
    const client = wsClient(server.url);
    const sub = subscribe(client, EVENTS, { f: 'gate', m: 'sensor' });
    await data(server.url, '{ status { ready } }');
    await new Promise((r) => setTimeout(r, 100));
    await move(server.url, 'g2', 30.001, 30.001);
    expect((await sub.next()).data.geofenceEvents.kind).toBe('ENTER');
    const dwell = (await sub.next()).data.geofenceEvents;
    expect(dwell).toMatchObject({ kind: 'DWELL', fence: 'gate', twinId: 'g2' });
    expect(dwell.dwellMs).toBeGreaterThanOrEqual(300);
    await client.dispose();
  });

  it('raises the fence alarm on ENTER and clears it on EXIT', async () => {
    await data(server.url, PUT, { i: { name: 'danger', model: 'sensor', shape: square(40, 40, 41, 41), alarm: { severity: 'CRITICAL' } } });
    const alarms = async () =>
      (await data(server.url, '{ alerts(model: "sensor", twinId: "g3", type: "geofence:danger") { severity status title data } }')).alerts as {
        status: string;
      }[];
    await move(server.url, 'g3', 40.5, 40.5);
    await eventually(async () =>
      expect(await alarms()).toEqual([
        { severity: 'CRITICAL', status: 'ACTIVE', title: 'g3 entered danger', data: { fence: 'danger', lat: 40.5, lng: 40.5 } },
      ]),
    );
    await move(server.url, 'g3', 45, 45);
    await eventually(async () => expect((await alarms()).map((a) => a.status)).toEqual(['CLEARED']));
  });
});

describe('Fences', () => {
  it('lists the fence of GEOFENCES_FILE as read-only and refuses to change it', async () => {
    const list = (await data(server.url, '{ geofences(model: "sensor") { name source model shape } }')).geofences as { name: string }[];
    expect(list.find((f) => f.name === 'hq')).toEqual({ name: 'hq', source: 'FILE', model: 'sensor', shape: { center: [20, 20], radiusM: 1000 } });
    const r = await gql(server.url, 'mutation { removeGeofence(name: "hq") }');
    expect(codeOf(r)).toBe('GEOFENCE_INVALID');
  });

  it('refuses a bad fence with GEOFENCE_INVALID naming the field, and counts it', async () => {
    const before = (await metric(server.url, 'hextwin_errors_total', { code: 'GEOFENCE_INVALID' })) ?? 0;
    const r = await gql(server.url, PUT, { i: { name: 'bad', shape: { type: 'Polygon', coordinates: [[[0, 0], [0, 95], [1, 1]]] } } });
    expect(codeOf(r)).toBe('GEOFENCE_INVALID');
    expect(r.body.errors?.[0]?.message).toMatch(/coordinates\[0\]\[1\]: latitude 95/);
    expect(codeOf(await gql(server.url, PUT, { i: { name: 'bad', model: 'nope', shape: square(0, 0, 1, 1) } }))).toBe('UNKNOWN_MODEL');
    await eventually(async () => expect(await metric(server.url, 'hextwin_errors_total', { code: 'GEOFENCE_INVALID' })).toBe(before + 1));
  });

  it('keeps fences created over GraphQL across a restart, and the twins inside them', async () => {
    await data(server.url, PUT, { i: { name: 'kept', model: 'sensor', shape: square(50, 50, 51, 51), dwellMs: 60_000, alarm: { severity: 'WARNING', type: 'zone' } } });
    await move(server.url, 'g4', 50.5, 50.5);
    await eventually(async () => expect((await data(server.url, '{ twin(model: "sensor", id: "g4") { geofences } }')).twin.geofences).toContain('kept'));
    server = await server.restart();
    const list = (await data(server.url, '{ geofences { name source dwellMs alarm { severity type } } }')).geofences as { name: string }[];
    expect(list.map((f) => f.name)).toEqual(['danger', 'gate', 'hq', 'kept', 'yard']);
    expect(list.find((f) => f.name === 'kept')).toEqual({ name: 'kept', source: 'API', dwellMs: 60_000, alarm: { severity: 'WARNING', type: 'zone' } });
    expect((await data(server.url, '{ twin(model: "sensor", id: "g4") { geofences } }')).twin.geofences).toEqual(['kept']);
    // removing the fence lets the twin EXIT, and clears its alarm
    const client = wsClient(server.url);
    const sub = subscribe(client, EVENTS, { f: 'kept' });
    await data(server.url, '{ status { ready } }');
    await new Promise((r) => setTimeout(r, 100));
    expect((await data(server.url, 'mutation { removeGeofence(name: "kept") }')).removeGeofence).toBe(true);
    expect((await sub.next()).data.geofenceEvents).toMatchObject({ kind: 'EXIT', twinId: 'g4' });
    expect((await data(server.url, '{ alerts(twinId: "g4", type: "zone") { status } }')).alerts).toEqual([{ status: 'CLEARED' }]);
    expect((await data(server.url, 'mutation { removeGeofence(name: "kept") }')).removeGeofence).toBe(false);
    await client.dispose();
  });
});
