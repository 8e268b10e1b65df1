import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { TWIN_CHANGES } from '../../web/src/lib/graphql/operations.js';
import { data, eventually, send, subscribe, useGraphqlServer, wsClient } from './helpers.js';

const server = useGraphqlServer();

describe('alerts', () => {
  it('delivers every new alert of the model at or above the minimum severity, live', async () => {
    const client = wsClient(server.url);
    const all = subscribe(client, 'subscription { alerts { twinId severity title at } }');
    const critical = subscribe(client, 'subscription { alerts(model: "sensor", minSeverity: CRITICAL) { twinId title data twin { id } } }');
    // the subscriptions are live once the first (empty) probe round trip is done
    await data(server.url, '{ status { ready } }');
    await new Promise((r) => setTimeout(r, 100));
    await send(server.url, [
      ['al1', { alert: { severity: 'INFO', title: 'hello' } }],
      ['al2', { alert: { severity: 'CRITICAL', title: 'fire', data: { x: 1 } } }],
    ]);
    expect((await all.next()).data.alerts).toMatchObject({ twinId: 'al1', severity: 'INFO', title: 'hello' });
    expect((await all.next()).data.alerts).toMatchObject({ twinId: 'al2', severity: 'CRITICAL' });
    expect((await critical.next()).data.alerts).toEqual({ twinId: 'al2', title: 'fire', data: { x: 1 }, twin: { id: 'al2' } });
    await client.dispose();
  });

  it('refuses an unknown model', async () => {
    const client = wsClient(server.url);
    const sub = subscribe(client, 'subscription { alerts(model: "nope") { id } }');
    const r = await sub.next().catch((e: unknown) => ({ errors: e as { extensions?: { code?: string } }[] }));
    expect(r.errors?.[0]?.extensions?.code).toBe('UNKNOWN_MODEL');
    await client.dispose();
  });
});

describe('twinChanges', () => {
  it('sends the matching set as ENTER, then ENTER, UPDATE and LEAVE as twins change', async () => {
    await send(server.url, [
      ['tc1', { set: { level: 50, zone: 'x' } }],
      ['tc2', { set: { level: 1, zone: 'x' } }],
      ['tc3', { set: { level: 60, zone: 'x' } }],
    ]);
    await eventually(async () =>
      expect((await data(server.url, '{ twins(model: "sensor", where: {field: "zone", op: EQ, value: "x"}) { totalCount } }')).twins.totalCount).toBe(3),
    );
    const client = wsClient(server.url);
    const sub = subscribe(client, 'subscription($w: TwinFilter) { twinChanges(model: "sensor", where: $w, throttleMs: 0) { kind id twin { state } } }', {
      w: {
        and: [
          { field: 'zone', op: 'EQ', value: 'x' },
          { field: 'level', op: 'GTE', value: 10 },
        ],
      },
    });
    const first = [(await sub.next()).data.twinChanges, (await sub.next()).data.twinChanges];
    expect(first.map((c) => `${c.kind} ${c.id}`).sort()).toEqual(['ENTER tc1', 'ENTER tc3']);
    await send(server.url, [['tc2', { set: { level: 11 } }]]);
    expect((await sub.next()).data.twinChanges).toEqual({ kind: 'ENTER', id: 'tc2', twin: { state: { level: 11, zone: 'x' } } });
    await send(server.url, [['tc1', { set: { level: 55 } }]]);
    expect((await sub.next()).data.twinChanges).toEqual({ kind: 'UPDATE', id: 'tc1', twin: { state: { level: 55, zone: 'x' } } });
    await send(server.url, [['tc3', { set: { level: 2 } }]]);
    expect((await sub.next()).data.twinChanges).toEqual({ kind: 'LEAVE', id: 'tc3', twin: { state: { level: 2, zone: 'x' } } });
    await data(server.url, 'mutation { removeTwin(model: "sensor", id: "tc1") }');
    expect((await sub.next()).data.twinChanges).toEqual({ kind: 'LEAVE', id: 'tc1', twin: null });
    await client.dispose();
  });

  it("leaves the state out of the dashboard's map stream when asked withState: false, and keeps it by default", async () => {
    await send(server.url, [['ws1', { set: { level: 70, zone: 'slim', lat: 10, lng: 20 } }]]);
    const where = { field: 'zone', op: 'EQ', value: 'slim' };
    await eventually(async () =>
      expect((await data(server.url, '{ twins(model: "sensor", where: {field: "zone", op: EQ, value: "slim"}) { totalCount } }')).twins.totalCount).toBe(1),
    );
    const client = wsClient(server.url);
    const slim = subscribe(client, TWIN_CHANGES, { model: 'sensor', where, throttleMs: 0, withState: false });
    const full = subscribe(client, TWIN_CHANGES, { model: 'sensor', where, throttleMs: 0 });
    const s = (await slim.next()).data.twinChanges;
    expect(s).toMatchObject({ kind: 'ENTER', id: 'ws1', twin: { id: 'ws1', model: 'sensor' } });
    expect(s.twin).not.toHaveProperty('state');
    expect((await full.next()).data.twinChanges.twin.state).toMatchObject({ level: 70, zone: 'slim' });
    await client.dispose();
  });

  it('refuses an invalid filter with INVALID_FILTER', async () => {
    const client = wsClient(server.url);
    const sub = subscribe(client, 'subscription { twinChanges(model: "sensor", where: {field: "level"}) { id } }');
    const r = await sub.next().catch((e: unknown) => ({ errors: e as { extensions?: { code?: string } }[] }));
    expect(r.errors?.[0]?.extensions?.code).toBe('INVALID_FILTER');
    await client.dispose();
  });
});

describe('aggregate and hexAggregate', () => {
  it('pushes an aggregate at once, then again only when it changed', async () => {
    await send(server.url, [
      ['ag1', { set: { level: 5, team: 'red' } }],
      ['ag2', { set: { level: 7, team: 'red' } }],
    ]);
    await eventually(async () =>
      expect((await data(server.url, '{ twins(model: "sensor", where: {field: "team", op: EXISTS}) { totalCount } }')).twins.totalCount).toBe(2),
    );
    const client = wsClient(server.url);
    const sub = subscribe(
      client,
      'subscription { aggregate(model: "sensor", where: {field: "team", op: EXISTS}, groupBy: "team", metrics: [{field: "level", op: SUM}], everyMs: 100) { key count values } }',
    );
    expect((await sub.next()).data.aggregate).toEqual([{ key: 'red', count: 2, values: [12] }]);
    // a change that leaves the aggregate as it was is not pushed
    await send(server.url, [['ag1', { set: { note: 'same level' } }]]);
    await send(server.url, [['ag2', { set: { level: 8 } }]]);
    expect((await sub.next()).data.aggregate).toEqual([{ key: 'red', count: 2, values: [13] }]);
    await send(server.url, [['ag3', { set: { level: 1, team: 'blue' } }]]);
    expect((await sub.next()).data.aggregate).toEqual([
      { key: 'red', count: 2, values: [13] },
      { key: 'blue', count: 1, values: [1] },
    ]);
    expect(await sub.quiet(400)).toBe(true);
    await client.dispose();
  });

  it('pushes hexagon bins as located twins move', async () => {
    const client = wsClient(server.url);
    const sub = subscribe(
      client,
      'subscription { hexAggregate(model: "sensor", resolution: 3, where: {field: "fleet", op: EQ, value: "f"}, metrics: [{field: "level", op: MAX}], everyMs: 100) { cell count values } }',
    );
    expect((await sub.next()).data.hexAggregate).toEqual([]);
    await send(server.url, [['hx1', { set: { fleet: 'f', level: 4, lat: 10, lng: 10 } }]]);
    const { latLngToCell } = await import('h3-js');
    expect((await sub.next()).data.hexAggregate).toEqual([{ cell: latLngToCell(10, 10, 3), count: 1, values: [4] }]);
    await send(server.url, [['hx1', { set: { lat: -30, lng: 140 } }]]);
    expect((await sub.next()).data.hexAggregate).toEqual([{ cell: latLngToCell(-30, 140, 3), count: 1, values: [4] }]);
    await client.dispose();
  });

  it('refuses everyMs below 100', async () => {
    const client = wsClient(server.url);
    const sub = subscribe(client, 'subscription { aggregate(model: "sensor", everyMs: 5) { count } }');
    const r = await sub.next().catch((e: unknown) => ({ errors: e as { extensions?: { code?: string } }[] }));
    expect(r.errors?.[0]?.extensions?.code).toBe('BAD_REQUEST');
    await client.dispose();
  });
});

describe('a slow subscriber', () => {
  async function gauge(name: string): Promise<number> {
    const text = await (await fetch(server.url + '/metrics')).text();
    const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
    return m ? Number(m[1]) : NaN;
  }

  it('conflates to the latest state per twin, keeps server memory bounded, and never holds up ingest', async () => {
    const TWINS = 40;
    const ROUNDS = 40;
    const big = 'x'.repeat(20_000);
    // a raw graphql-ws client whose TCP socket stops reading
    const ws = new WebSocket(server.url.replace('http', 'ws') + '/graphql', 'graphql-transport-ws');
    const received: { kind: string; id: string; v: number }[] = [];
    await new Promise<void>((resolve, reject) => {
      ws.on('error', reject);
      ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init' })));
      ws.on('message', (m) => {
        const msg = JSON.parse(String(m));
        if (msg.type === 'connection_ack') {
          ws.send(
            JSON.stringify({
              id: '1',
              type: 'subscribe',
              payload: {
                query: 'subscription { twinChanges(model: "sensor", where: {field: "slow", op: EQ, value: true}, throttleMs: 0) { kind id twin { state } } }',
              },
            }),
          );
          resolve();
        } else if (msg.type === 'next') {
          const c = msg.payload.data.twinChanges;
          received.push({ kind: c.kind, id: c.id, v: c.twin.state.v });
        }
      });
    });
    const socket = (ws as unknown as { _socket: import('node:net').Socket })._socket;
    socket.pause();
    for (let r = 0; r < ROUNDS; r++) {
      await send(
        server.url,
        Array.from({ length: TWINS }, (_, i) => [`slow${i}`, { set: { slow: true, v: r, big } }] as [string, Record<string, unknown>]),
      );
    }
    // every message was applied while the subscriber read nothing
    await eventually(async () => {
      const d = await data(
        server.url,
        '{ aggregate(model: "sensor", where: {field: "slow", op: EQ, value: true}, metrics: [{field: "v", op: MIN}]) { count values } }',
      );
      expect(d.aggregate).toEqual([{ count: TWINS, values: [ROUNDS - 1] }]);
    });
    // what waits for the subscriber is at most one entry per twin, however many changes happened
    const pending = await gauge('hextwin_graphql_pending_changes');
    expect(pending).toBeLessThanOrEqual(TWINS);
    socket.resume();
    await eventually(() => {
      const last = new Map<string, number>();
      for (const e of received) last.set(e.id, e.v);
      expect(last.size).toBe(TWINS);
      expect([...last.values()].every((v) => v === ROUNDS - 1)).toBe(true);
    }, 15_000);
    // far fewer events than changes: intermediate states were conflated away
    expect(received.length).toBeLessThan((TWINS * ROUNDS) / 2);
    ws.close();
  });
});
