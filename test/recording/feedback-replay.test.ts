/**
 * Aggregate feedback and record & replay against real servers over real sockets: REST ingest, a
 * model reading its region's average through ctx.aggregate; a recorded model's messages
 * downloaded over REST and replayed into a fresh server, which ends in the same states.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, startServer, type ServerHandle } from '../kit/server.js';
import { postMessages, request } from '../kit/rest-client.js';
import { writeAuthFile } from '../kit/auth-file.js';
import { data, eventually, gql } from '../graphql/helpers.js';

const MODELS_DIR = path.join(repoRoot, 'test/fixtures/feedback-models');
const KEYS = { admin: 'admin-key-0123456789', viewer: 'viewer-key-0123456789', device: 'device-key-0123456789' };

let server: ServerHandle;
const servers: ServerHandle[] = [];

beforeAll(async () => {
  const auth = writeAuthFile([
    { key: KEYS.admin, role: 'admin' },
    { key: KEYS.viewer, role: 'viewer' },
    { key: KEYS.device, role: 'device', twins: ['meter/*', 'van/*'] },
  ]);
  server = await startServer({ env: { MODELS_DIR, AUTH_FILE: auth } });
  servers.push(server);
});
afterAll(async () => {
  for (const s of servers) await s.stop();
});

const state = async (s: ServerHandle, model: string, id: string) =>
  (await data<{ twin: { state: any } | null }>(s.url, 'query($m: String!, $id: ID!) { twin(model: $m, id: $id) { state } }', { m: model, id }, KEYS.admin)).twin
    ?.state;

describe('Aggregate feedback', () => {
  it('lets a model see its region average through ctx.aggregate after REST ingest', async () => {
    await postMessages(server.url, 'van', 'v1', { region: 'north', delayMin: 10 }, KEYS.device);
    await postMessages(server.url, 'van', 'v2', { region: 'north', delayMin: 30 }, KEYS.device);
    await postMessages(server.url, 'van', 'v3', { region: 'south', delayMin: 99 }, KEYS.device);
    // v1 keeps reporting until the refreshed average (every 100 ms) has both north vans
    await eventually(async () => {
      await postMessages(server.url, 'van', 'v1', { region: 'north', delayMin: 10 }, KEYS.device);
      expect(await state(server, 'van', 'v1')).toMatchObject({ regionAvg: 20, regionCount: 2 });
    });
  });
});

describe('Record and replay', () => {
  it('records a model declared with record, downloads it over REST, and a replay into a fresh server ends in the same states', async () => {
    const sent: [string, number][] = [];
    for (let i = 0; i < 40; i++) sent.push([`m${i % 4}`, i * 0.25]);
    for (const [id, kwh] of sent) await postMessages(server.url, 'meter', id, { kwh }, KEYS.device);
    const before = await eventually(async () => {
      const s = await Promise.all(['m0', 'm1', 'm2', 'm3'].map((id) => state(server, 'meter', id)));
      expect(s.map((x) => x?.n)).toEqual([10, 10, 10, 10]);
      return s;
    });

    const stopped = await data<{ stopRecording: { name: string; active: boolean; sizeBytes: number } | null }>(
      server.url,
      'mutation { stopRecording(model: "meter") { name active sizeBytes } }',
      undefined,
      KEYS.admin,
    );
    const rec = stopped.stopRecording!;
    expect(rec.active).toBe(false);
    const listed = await data<{ recordings: { name: string; model: string; sizeBytes: number; from: string; to: string }[] }>(
      server.url,
      '{ recordings { name model sizeBytes from to } }',
      undefined,
      KEYS.viewer,
    );
    const item = listed.recordings.find((r) => r.name === rec.name)!;
    expect(item).toMatchObject({ model: 'meter', sizeBytes: rec.sizeBytes });
    expect(Date.parse(item.to)).toBeGreaterThanOrEqual(Date.parse(item.from));

    // viewers may download, devices may not
    expect((await request(server.url, 'GET', `/api/v1/recordings/${rec.name}`, { key: KEYS.device })).status).toBe(403);
    expect((await request(server.url, 'GET', '/api/v1/recordings/..%2Fadmin-token', { key: KEYS.viewer })).status).toBe(404);
    const res = await fetch(`${server.url}/api/v1/recordings/${rec.name}`, { headers: { authorization: `Bearer ${KEYS.viewer}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/x-ndjson');
    const ndjson = await res.text();
    const lines = ndjson
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(40);
    expect(lines.map((l) => [l.id, l.message.kwh])).toEqual(sent);
    expect(Buffer.byteLength(ndjson)).toBe(rec.sizeBytes);

    // a fresh server, the downloaded file in its DATA_DIR/recordings
    const dataDir = mkdtempSync(path.join(tmpdir(), 'hextwin-replay-'));
    mkdirSync(path.join(dataDir, 'recordings'));
    writeFileSync(path.join(dataDir, 'recordings', 'storm.ndjson'), ndjson);
    const fresh = await startServer({ env: { MODELS_DIR }, dataDir });
    servers.push(fresh);
    const started = await data<{ replayRecording: { messages: number; speed: number } }>(
      fresh.url,
      'mutation { replayRecording(name: "storm.ndjson", speed: 0) { messages speed } }',
    );
    expect(started.replayRecording).toEqual({ messages: 40, speed: 0 });
    await eventually(async () => {
      const after = await Promise.all(['m0', 'm1', 'm2', 'm3'].map((id) => state(fresh, 'meter', id)));
      expect(after).toEqual(before);
    });
  });

  it('starts and stops a recording at run time over GraphQL, for operators only', async () => {
    const q = 'mutation { startRecording(model: "van", maxBytes: 100000) { name model active } }';
    expect((await gql(server.url, q, undefined, { key: KEYS.viewer })).body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const r = await data<{ startRecording: { name: string; model: string; active: boolean } }>(server.url, q, undefined, KEYS.admin);
    expect(r.startRecording).toMatchObject({ model: 'van', active: true });
    await postMessages(server.url, 'van', 'v9', { region: 'east', delayMin: 1 }, KEYS.device);
    const stopped = await data<{ stopRecording: { sizeBytes: number } }>(
      server.url,
      'mutation { stopRecording(model: "van") { sizeBytes } }',
      undefined,
      KEYS.admin,
    );
    expect(stopped.stopRecording.sizeBytes).toBeGreaterThan(0);
    const body = await (await fetch(`${server.url}/api/v1/recordings/${r.startRecording.name}`, { headers: { authorization: `Bearer ${KEYS.admin}` } })).text();
    expect(JSON.parse(body.trim())).toMatchObject({ model: 'van', id: 'v9', message: { region: 'east', delayMin: 1 } });
  });
});

describe('A replay on Query.simulation', () => {
  type Sim = {
    kind: string;
    running: boolean;
    speed: number;
    simTime: string;
    instances: number;
    startTime: string | null;
    endTime: string | null;
    progress: number | null;
    emitted: number;
    replay: { name: string; running: boolean; speed: number; messages: number; sent: number; twins: number; progress: number; recordedTime: string } | null;
  };
  const SIM =
    '{ simulation { kind running speed simTime instances startTime endTime progress emitted replay { name running speed messages sent twins progress recordedTime } } }';

  it('reports a replay in progress as a simulation of the recorded time, and the finished replay after', async () => {
    // 30 messages to 3 meters over 12 recorded seconds, replayed at speed 2: about 6 s
    const t0 = Date.parse('2030-01-01T00:00:00Z');
    const lines = Array.from({ length: 30 }, (_, i) => JSON.stringify({ at: t0 + i * 400, model: 'meter', id: `r${i % 3}`, message: { kwh: i } }));
    const dataDir = mkdtempSync(path.join(tmpdir(), 'hextwin-replay-status-'));
    mkdirSync(path.join(dataDir, 'recordings'));
    writeFileSync(path.join(dataDir, 'recordings', 'slow.ndjson'), `${lines.join('\n')}\n`);
    const s = await startServer({ env: { MODELS_DIR }, dataDir });
    servers.push(s);
    const idle = (await data<{ simulation: Sim }>(s.url, SIM)).simulation;
    expect(idle).toMatchObject({ kind: 'NONE', running: false, replay: null });

    await data(s.url, 'mutation { replayRecording(name: "slow.ndjson", speed: 2) { messages } }');
    const during = await eventually(async () => {
      const v = (await data<{ simulation: Sim }>(s.url, SIM)).simulation;
      expect(v.replay?.sent).toBeGreaterThan(0);
      return v;
    });
    expect(during).toMatchObject({
      kind: 'REPLAY',
      running: true,
      speed: 2,
      instances: 3,
      startTime: new Date(t0).toISOString(),
      endTime: new Date(t0 + 29 * 400).toISOString(),
    });
    expect(during.replay).toMatchObject({ name: 'slow.ndjson', running: true, speed: 2, messages: 30, twins: 3 });
    expect(during.progress).toBeGreaterThan(0);
    expect(during.progress).toBeLessThan(1);
    expect(Date.parse(during.simTime)).toBeGreaterThanOrEqual(t0);
    expect(Date.parse(during.simTime)).toBeLessThan(t0 + 29 * 400);
    expect(during.emitted).toBe(during.replay!.sent);

    const after = await eventually(async () => {
      const v = (await data<{ simulation: Sim }>(s.url, SIM)).simulation;
      expect(v.replay?.running).toBe(false);
      return v;
    }, 20_000);
    expect(after).toMatchObject({ kind: 'NONE', running: false });
    expect(after.replay).toMatchObject({ sent: 30, progress: 1, recordedTime: new Date(t0 + 29 * 400).toISOString() });
  });
});
