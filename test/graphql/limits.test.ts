/**
 * GraphQL cannot be abused: cost by resolver weight, a cap on root fields, capped aggregate groups,
 * capped subscriptions, twin-change fan-out by cell, depth and size of JSON arguments, and
 * commands for twins that do not exist. Each case reproduces a reported weakness against a real
 * server over real HTTP and graphql-ws.
 */
import { latLngToCell } from 'h3-js';
import { beforeAll, describe, expect, it } from 'vitest';
import { metric } from '../kit/metrics.js';
import { codeOf, data, eventually, gql, KEYS, send, subscribe, useGraphqlServer, wsClient } from './helpers.js';

const VIEWER = KEYS.viewer[0];
const OPERATOR = KEYS.operator[0];

const server = useGraphqlServer({
  auth: true,
  env: {
    GRAPHQL_MAX_COST: '1000',
    GRAPHQL_MAX_GROUPS: '20',
    GRAPHQL_MAX_SUBSCRIPTIONS_PER_CONNECTION: '3',
    GRAPHQL_MAX_SUBSCRIPTIONS_PER_KEY: '5',
  },
});

const TWINS = 400;
const PARIS = { lat: 48.8566, lng: 2.3522 };
const FIJI = { lat: -17.7, lng: 178.1 };

beforeAll(async () => {
  for (let i = 0; i < TWINS; i += 50) {
    const batch = Array.from(
      { length: 50 },
      (_, j) => [`t${i + j}`, { set: { kind: `k${(i + j) % 4}`, v: i + j, ...FIJI } }] as [string, Record<string, unknown>],
    );
    await send(server.url, batch, OPERATOR);
  }
  await eventually(async () =>
    expect((await data(server.url, '{ twins(model: "sensor", first: 0) { totalCount } }', {}, VIEWER)).twins.totalCount).toBe(TWINS),
  );
}, 30_000);

const aliased = (n: number, field: string) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: ${field}`).join(' ')} }`;

describe('cost by resolver weight', () => {
  it('refuses many aliased full scans that cost one per field under the old model', async () => {
    // 40 aggregates of 400 twins each: 80 under "one per field", several thousand by scan weight
    const r = await gql(server.url, aliased(40, 'aggregate(model: "sensor", groupBy: "kind") { count }'), undefined, { key: VIEWER });
    expect(r.status).toBe(400);
    expect(codeOf(r)).toBe('QUERY_TOO_COMPLEX');
    expect(r.body.errors![0]!.message).toMatch(/scan/);
  });
  it('still answers the same number of lookups that scan nothing', async () => {
    const r = await gql(server.url, aliased(40, 'twin(model: "sensor", id: "t1") { id }'), undefined, { key: VIEWER });
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data!.a39).toEqual({ id: 't1' });
  });
  it('answers a few scans within the budget', async () => {
    const d = await data(server.url, aliased(5, 'aggregate(model: "sensor", groupBy: "kind") { key count }'), undefined, VIEWER);
    expect(d.a0).toHaveLength(4);
  });
  it('refuses thousands of aliased root fields, whatever they cost', async () => {
    const r = await gql(server.url, aliased(2_000, '__typename'), undefined, { key: VIEWER });
    expect(r.status).toBe(400);
    expect(codeOf(r)).toBe('QUERY_TOO_COMPLEX');
    expect(r.body.errors![0]!.message).toMatch(/root fields/);
  });
  it('counts refused operations in /metrics by limit', async () => {
    expect(await metric(server.url, 'hextwin_graphql_refused_total', { limit: 'cost' }, KEYS.viewer[0])).toBeGreaterThan(0);
    expect(await metric(server.url, 'hextwin_graphql_refused_total', { limit: 'root_fields' }, KEYS.viewer[0])).toBeGreaterThan(0);
  });
});

describe('groups of an aggregate', () => {
  it('refuses an aggregate by $id over more twins than GRAPHQL_MAX_GROUPS with TOO_MANY_GROUPS', async () => {
    const r = await gql(server.url, '{ aggregate(model: "sensor", groupBy: "$id") { key count } }', undefined, { key: VIEWER });
    expect(codeOf(r)).toBe('TOO_MANY_GROUPS');
    expect(r.body.errors![0]!.message).toMatch(/20/);
  });
  it('refuses a hexAggregate with more cells than allowed', async () => {
    await send(
      server.url,
      Array.from({ length: 30 }, (_, i) => [`spread${i}`, { set: { lat: -30 + i, lng: 10 + i } }] as [string, Record<string, unknown>]),
      OPERATOR,
    );
    await eventually(async () =>
      expect((await data(server.url, '{ hexAggregate(model: "sensor", resolution: 0) { count } }', {}, VIEWER)).hexAggregate.length).toBeGreaterThan(0),
    );
    const r = await gql(server.url, '{ hexAggregate(model: "sensor", resolution: 9) { cell count } }', undefined, { key: VIEWER });
    expect(codeOf(r)).toBe('TOO_MANY_GROUPS');
  });
  it('ends an aggregate subscription with TOO_MANY_GROUPS', async () => {
    const client = wsClient(server.url, VIEWER);
    const sub = subscribe(client, 'subscription { aggregate(model: "sensor", groupBy: "$id", everyMs: 100) { key count } }');
    const r = await sub.next().catch((e: unknown) => ({ errors: (Array.isArray(e) ? e : [e]) as { extensions?: { code?: string } }[] }));
    expect(r.errors?.[0]?.extensions?.code).toBe('TOO_MANY_GROUPS');
    await client.dispose();
  });
});

const waitForSubscriptions = (n: number) =>
  eventually(async () => expect(await metric(server.url, 'hextwin_graphql_subscriptions', { kind: 'twinChanges' }, KEYS.viewer[0])).toBe(n));

describe('subscriptions per connection and per key', () => {
  const watch = 'subscription { twinChanges(model: "sensor", where: {field: "kind", op: EQ, value: "none"}) { kind id } }';
  const refusal = async (s: ReturnType<typeof subscribe>) =>
    s.next(3_000).then(
      (v) => v.errors?.[0]?.extensions?.code,
      (e: unknown) => (Array.isArray(e) ? e[0]?.extensions?.code : String(e)),
    );

  it('refuses the subscription over GRAPHQL_MAX_SUBSCRIPTIONS_PER_CONNECTION on one connection', async () => {
    const client = wsClient(server.url, VIEWER);
    const subs = [subscribe(client, watch), subscribe(client, watch), subscribe(client, watch)];
    await Promise.all(subs.map((s) => s.quiet(50)));
    await waitForSubscriptions(3);
    const fourth = subscribe(client, watch);
    expect(await refusal(fourth)).toBe('TOO_MANY_SUBSCRIPTIONS');
    // completing one frees its place
    await subs[0]!.close();
    await waitForSubscriptions(2);
    const again = subscribe(client, watch);
    expect(await again.quiet(200)).toBe(true);
    await waitForSubscriptions(3);
    await client.dispose();
    await waitForSubscriptions(0);
  });
  it('refuses the subscription over GRAPHQL_MAX_SUBSCRIPTIONS_PER_KEY across connections, and not for another key', async () => {
    const a = wsClient(server.url, VIEWER);
    const b = wsClient(server.url, VIEWER);
    const subs = [subscribe(a, watch), subscribe(a, watch), subscribe(a, watch), subscribe(b, watch), subscribe(b, watch)];
    await Promise.all(subs.map((s) => s.quiet(50)));
    await waitForSubscriptions(5);
    expect(await refusal(subscribe(b, watch))).toBe('TOO_MANY_SUBSCRIPTIONS');
    const other = wsClient(server.url, OPERATOR);
    expect(await subscribe(other, watch).quiet(200)).toBe(true);
    await waitForSubscriptions(6);
    expect(await metric(server.url, 'hextwin_graphql_refused_total', { limit: 'subscriptions_per_key' }, KEYS.viewer[0])).toBeGreaterThan(0);
    await Promise.all([a.dispose(), b.dispose(), other.dispose()]);
    await waitForSubscriptions(0);
  });
});

describe('twin-change fan-out', () => {
  it('does not call location-filtered subscriptions for changes in other cells', async () => {
    const paris = latLngToCell(PARIS.lat, PARIS.lng, 5);
    const clients = [wsClient(server.url, VIEWER), wsClient(server.url, OPERATOR)];
    const subs = [0, 1, 2, 3].map((i) =>
      subscribe(clients[i % 2]!, `subscription { twinChanges(model: "sensor", where: {within: {cells: ["${paris}"]}}, throttleMs: 0) { kind id } }`),
    );
    // (quiet() would take the first result: wait on the gauge instead)
    await waitForSubscriptions(4);
    const before = await metric(server.url, 'hextwin_graphql_change_notifications_total', {}, KEYS.viewer[0]);
    // 40 changes of twins in Fiji: nothing a Paris subscription can be concerned by
    await send(
      server.url,
      Array.from({ length: 40 }, (_, i) => [`t${i}`, { set: { v: 1_000 + i } }] as [string, Record<string, unknown>]),
      OPERATOR,
    );
    await eventually(async () => expect((await data(server.url, '{ twin(model: "sensor", id: "t39") { state } }', {}, VIEWER)).twin.state.v).toBe(1_039));
    expect(await metric(server.url, 'hextwin_graphql_change_notifications_total', {}, KEYS.viewer[0])).toBe(before);
    // a twin moving into Paris reaches all four
    await send(server.url, [['t0', { set: PARIS }]], OPERATOR);
    for (const s of subs) expect((await s.next()).data.twinChanges).toEqual({ kind: 'ENTER', id: 't0' });
    expect(await metric(server.url, 'hextwin_graphql_change_notifications_total', {}, KEYS.viewer[0])).toBe(before + 4);
    // and leaving it too
    await send(server.url, [['t0', { set: FIJI }]], OPERATOR);
    for (const s of subs) expect((await s.next()).data.twinChanges).toEqual({ kind: 'LEAVE', id: 't0' });
    await Promise.all(clients.map((c) => c.dispose()));
    await waitForSubscriptions(0);
  });
});

/** `{"a":{"a":…}}` nested `depth` levels. */
function nested(depth: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = { a: v };
  return v;
}

describe('JSON arguments', () => {
  it('refuses a sendToTwin message nested deeper than 64 levels, as a variable and as a literal', async () => {
    const r = await gql(
      server.url,
      'mutation($m: JSON!) { sendToTwin(model: "sensor", id: "deep", message: $m) }',
      { m: { set: nested(200) } },
      { key: OPERATOR },
    );
    expect(codeOf(r)).toBe('INVALID_MESSAGE');
    expect(r.body.errors![0]!.message).toMatch(/64/);
    const literal = 'mutation { sendToTwin(model: "sensor", id: "deep", message: ' + '{a: '.repeat(200) + '1' + '}'.repeat(200) + ') }';
    expect(codeOf(await gql(server.url, literal, undefined, { key: OPERATOR }))).toBe('INVALID_MESSAGE');
    expect((await fetch(server.url + '/healthz')).status).toBe(200);
  });
  it('refuses a deep sendCommand instead of queueing it', async () => {
    const r = await gql(server.url, 'mutation($c: JSON!) { sendCommand(model: "sensor", id: "t1", command: $c) }', { c: nested(500) }, { key: OPERATOR });
    expect(codeOf(r)).toBe('INVALID_MESSAGE');
    expect((await data(server.url, '{ twin(model: "sensor", id: "t1") { pendingCommands } }', {}, VIEWER)).twin.pendingCommands).toEqual([]);
  });
  it('refuses a JSON literal that repeats a large variable beyond MAX_BODY_BYTES', async () => {
    const big = 'x'.repeat(100_000);
    const q = `mutation($b: JSON!) { sendToTwin(model: "sensor", id: "big", message: {set: {many: [${Array(20).fill('$b').join(', ')}]}}) }`;
    const r = await gql(server.url, q, { b: big }, { key: OPERATOR });
    expect(codeOf(r)).toBe('PAYLOAD_TOO_LARGE');
  });
});

describe('sendCommand', () => {
  it('answers TWIN_NOT_FOUND for a twin that does not exist, and queues nothing', async () => {
    const r = await gql(server.url, 'mutation { sendCommand(model: "sensor", id: "ghost", command: {op: "boo"}) }', undefined, { key: OPERATOR });
    expect(codeOf(r)).toBe('TWIN_NOT_FOUND');
    const pull = await fetch(server.url + '/api/v1/messages/sensor/ghost', { headers: { authorization: `Bearer ${OPERATOR}` } });
    expect(await pull.json()).toEqual({ commands: [] });
  });
});
