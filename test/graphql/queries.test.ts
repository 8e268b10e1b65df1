import { beforeAll, describe, expect, it } from 'vitest';
import { latLngToCell } from 'h3-js';
import { codeOf, data, eventually, gql, send, useGraphqlServer } from './helpers.js';

const server = useGraphqlServer();

const PARIS = { lat: 48.8566, lng: 2.3522 };
const VERSAILLES = { lat: 48.8049, lng: 2.1204 };
const FIJI = { lat: -17.7, lng: 178.1 };
const SAMOA = { lat: -13.8, lng: -171.8 };

beforeAll(async () => {
  await send(server.url, [
    ['s1', { set: { level: 12, name: 'alpha', tags: ['red', 'blue'], driver: { name: 'Ann' }, on: true, count: 3, ...PARIS } }],
    ['s2', { set: { level: 3, name: 'beta', tags: ['green'], driver: { name: 'Bob' }, on: false, ...FIJI } }],
    ['s3', { set: { level: null, name: 'gamma', ...SAMOA } }],
    ['s4', { set: { level: 20, name: 'delta-alpha', ...VERSAILLES } }],
    ['s5', { set: {} }],
  ]);
  await send(server.url, [['n1', { text: 'hello' }]], undefined, 'note');
  await eventually(async () => expect((await data(server.url, '{ twins(model: "sensor") { totalCount } }')).twins.totalCount).toBe(5));
});

const ids = async (where: unknown) => {
  const d = await data(server.url, 'query($w: TwinFilter) { twins(model: "sensor", where: $w) { totalCount edges { node { id } } } }', { w: where });
  expect(d.twins.totalCount).toBe(d.twins.edges.length);
  return d.twins.edges.map((e: { node: { id: string } }) => e.node.id);
};

describe('twins filter ops over HTTP', () => {
  it.each<[string, unknown, string[]]>([
    ['EQ', { field: 'level', op: 'EQ', value: 12 }, ['s1']],
    ['EQ on an object', { field: 'driver', op: 'EQ', value: { name: 'Bob' } }, ['s2']],
    ['NE (true for missing and null)', { field: 'level', op: 'NE', value: 12 }, ['s2', 's3', 's4', 's5']],
    ['GT', { field: 'level', op: 'GT', value: 12 }, ['s4']],
    ['GTE', { field: 'level', op: 'GTE', value: 12 }, ['s1', 's4']],
    ['LT', { field: 'level', op: 'LT', value: 12 }, ['s2']],
    ['LTE', { field: 'level', op: 'LTE', value: 12 }, ['s1', 's2']],
    ['GT on strings', { field: 'name', op: 'GT', value: 'beta' }, ['s3', 's4']],
    ['IN', { field: 'name', op: 'IN', value: ['beta', 'gamma', 'zeta'] }, ['s2', 's3']],
    ['CONTAINS on an array', { field: 'tags', op: 'CONTAINS', value: 'blue' }, ['s1']],
    ['CONTAINS on a string', { field: 'name', op: 'CONTAINS', value: 'alpha' }, ['s1', 's4']],
    ['EXISTS (false for null)', { field: 'level', op: 'EXISTS' }, ['s1', 's2', 's4']],
    ['EXISTS false', { field: 'level', op: 'EXISTS', value: false }, ['s3', 's5']],
    ['dotted path', { field: 'driver.name', op: 'EQ', value: 'Ann' }, ['s1']],
    [
      'and',
      {
        and: [
          { field: 'level', op: 'GT', value: 1 },
          { field: 'name', op: 'CONTAINS', value: 'a' },
        ],
      },
      ['s1', 's2', 's4'],
    ],
    [
      'or',
      {
        or: [
          { field: 'level', op: 'EQ', value: 3 },
          { field: 'name', op: 'EQ', value: 'gamma' },
        ],
      },
      ['s2', 's3'],
    ],
    ['not', { not: { field: 'level', op: 'EXISTS' } }, ['s3', 's5']],
    ['side by side is AND', { field: 'level', op: 'GT', value: 1, within: { near: { ...PARIS, km: 5 } } }, ['s1']],
    ['bbox', { within: { bbox: [2, 48, 3, 49] } }, ['s1', 's4']],
    ['bbox across the antimeridian', { within: { bbox: [170, -20, -170, -10] } }, ['s2', 's3']],
    ['near km', { within: { near: { ...PARIS, km: 20 } } }, ['s1', 's4']],
    ['H3 cells of mixed resolution', { within: { cells: [latLngToCell(PARIS.lat, PARIS.lng, 9), latLngToCell(FIJI.lat, FIJI.lng, 4)] } }, ['s1', 's2']],
  ])('%s', async (_name, where, expected) => {
    expect(await ids(where)).toEqual(expected);
  });

  it('refuses an invalid filter with INVALID_FILTER', async () => {
    const r = await gql(server.url, '{ twins(model: "sensor", where: {field: "level", op: GT, value: true}) { totalCount } }');
    expect(codeOf(r)).toBe('INVALID_FILTER');
    expect(r.body.errors![0]!.message).toMatch(/GT/);
  });

  it('answers UNKNOWN_MODEL for a model that does not exist', async () => {
    for (const q of [
      '{ twins(model: "nope") { totalCount } }',
      '{ twin(model: "nope", id: "x") { id } }',
      '{ aggregate(model: "nope") { count } }',
      '{ hexAggregate(model: "nope", resolution: 3) { count } }',
    ]) {
      expect(codeOf(await gql(server.url, q))).toBe('UNKNOWN_MODEL');
    }
  });
});

describe('twins ordering and pagination', () => {
  it('orders by a field with missing values last and pages with cursors', async () => {
    const q =
      'query($after: String) { twins(model: "sensor", orderBy: [{field: "level", direction: DESC}], first: 2, after: $after) { totalCount edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }';
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const d: any = await data(server.url, q, { after });
      expect(d.twins.totalCount).toBe(5);
      seen.push(...d.twins.edges.map((e: { node: { id: string } }) => e.node.id));
      if (!d.twins.pageInfo.hasNextPage) break;
      after = d.twins.pageInfo.endCursor;
    }
    expect(seen).toEqual(['s4', 's1', 's2', 's3', 's5']);
  });

  it('refuses first above 1000', async () => {
    expect(codeOf(await gql(server.url, '{ twins(model: "sensor", first: 1001) { totalCount } }'))).toBe('BAD_REQUEST');
  });
});

describe('twin', () => {
  it('returns state, location, cell, times, alerts and pending commands', async () => {
    const d = await data(
      server.url,
      '{ twin(model: "sensor", id: "s1") { id model state lat lng cell(resolution: 7) updatedAt createdAt lastError { code } alerts(limit: 5) { id } pendingCommands } }',
    );
    expect(d.twin).toMatchObject({
      id: 's1',
      model: 'sensor',
      lat: PARIS.lat,
      lng: PARIS.lng,
      cell: latLngToCell(PARIS.lat, PARIS.lng, 7),
      lastError: null,
      alerts: [],
      pendingCommands: [],
    });
    expect(d.twin.state).toMatchObject({ level: 12, name: 'alpha' });
    expect(Date.parse(d.twin.updatedAt)).toBeGreaterThan(0);
  });
  it('is null for an unknown id', async () => {
    expect((await data(server.url, '{ twin(model: "sensor", id: "nobody") { id } }')).twin).toBeNull();
  });
});

describe('simulation', () => {
  it('reports no simulation running on a server without SIMULATION_SPEED, on the engine clock', async () => {
    const before = Date.now();
    const d = await data(server.url, '{ simulation { running speed unbounded simTime instances startTime endTime progress steps emitted } }');
    expect(d.simulation).toMatchObject({
      running: false,
      speed: 1,
      unbounded: false,
      instances: 0,
      startTime: null,
      endTime: null,
      progress: null,
      steps: 0,
      emitted: 0,
    });
    expect(Date.parse(d.simulation.simTime)).toBeGreaterThanOrEqual(before - 1_000);
  });
});

describe('models', () => {
  it('lists models with twin counts and the state fields seen', async () => {
    const d = await data(server.url, '{ models { name description twinCount fields { name type } } }');
    const sensor = d.models.find((m: { name: string }) => m.name === 'sensor');
    const note = d.models.find((m: { name: string }) => m.name === 'note');
    expect(sensor.twinCount).toBe(5);
    expect(sensor.description).toMatch(/test sensor/);
    expect(sensor.fields).toEqual(
      expect.arrayContaining([
        { name: 'level', type: 'null|number' },
        { name: 'driver.name', type: 'string' },
        { name: 'tags', type: 'array' },
      ]),
    );
    expect(note).toMatchObject({ twinCount: 1, fields: [{ name: 'text', type: 'string' }] });
  });
});

describe('aggregates', () => {
  it('groups by a field with metrics, largest group first', async () => {
    await send(server.url, [['s5', { set: { on: true } }]]);
    await eventually(async () => {
      const d = await data(
        server.url,
        '{ aggregate(model: "sensor", groupBy: "on", metrics: [{op: COUNT}, {field: "level", op: SUM}, {field: "level", op: AVG}, {field: "level", op: MIN}, {field: "level", op: MAX}]) { key count values } }',
      );
      expect(d.aggregate).toEqual([
        // equal counts: by key, null last
        { key: true, count: 2, values: [2, 12, 12, 12, 12] },
        { key: null, count: 2, values: [2, 20, 20, 20, 20] },
        { key: false, count: 1, values: [1, 3, 3, 3, 3] },
      ]);
    });
  });

  it('gives one group with key null without groupBy, and counts only when metrics are omitted', async () => {
    const d = await data(
      server.url,
      '{ aggregate(model: "sensor", where: {field: "level", op: GT, value: 100}) { key count values } all: aggregate(model: "sensor") { count values } }',
    );
    expect(d.aggregate).toEqual([{ key: null, count: 0, values: [] }]);
    expect(d.all).toEqual([{ count: 5, values: [] }]);
  });

  it('rolls located twins up into H3 cells at the resolution', async () => {
    const d = await data(server.url, '{ hexAggregate(model: "sensor", resolution: 2, metrics: [{field: "level", op: MAX}]) { cell count values } }');
    const paris = latLngToCell(PARIS.lat, PARIS.lng, 2);
    expect(latLngToCell(VERSAILLES.lat, VERSAILLES.lng, 2)).toBe(paris);
    expect(d.hexAggregate[0]).toEqual({ cell: paris, count: 2, values: [20] });
    expect(d.hexAggregate).toHaveLength(3);
    expect(d.hexAggregate.reduce((n: number, b: { count: number }) => n + b.count, 0)).toBe(4);
  });

  it('refuses a resolution above 15', async () => {
    expect(codeOf(await gql(server.url, '{ hexAggregate(model: "sensor", resolution: 16) { cell } }'))).toBe('BAD_REQUEST');
  });
});

describe('alerts', () => {
  it('filters by model, twin, severity, time and acknowledgement, newest first', async () => {
    const before = new Date(Date.now() - 1000).toISOString();
    await send(server.url, [
      ['s1', { alert: { severity: 'WARNING', title: 'warm' } }],
      ['s2', { alert: { severity: 'CRITICAL', title: 'fire', message: 'evacuate', data: { t: 99 } } }],
    ]);
    const q =
      'query($min: Severity, $twin: ID, $since: DateTime, $ack: Boolean) { alerts(model: "sensor", minSeverity: $min, twinId: $twin, since: $since, acknowledged: $ack) { id model twinId severity title message at acknowledged data twin { id } } }';
    const all = await eventually(async () => {
      const d = await data(server.url, q, { since: before });
      expect(d.alerts).toHaveLength(2);
      return d.alerts;
    });
    expect(all[0]).toMatchObject({
      twinId: 's2',
      severity: 'CRITICAL',
      title: 'fire',
      message: 'evacuate',
      data: { t: 99 },
      acknowledged: false,
      twin: { id: 's2' },
    });
    expect((await data(server.url, q, { min: 'ERROR', since: before })).alerts.map((a: { title: string }) => a.title)).toEqual(['fire']);
    expect((await data(server.url, q, { twin: 's1', since: before })).alerts.map((a: { title: string }) => a.title)).toEqual(['warm']);
    expect((await data(server.url, q, { since: new Date(Date.now() + 60_000).toISOString() })).alerts).toEqual([]);
    expect((await data(server.url, q, { ack: true, since: before })).alerts).toEqual([]);
    expect((await data(server.url, '{ twin(model: "sensor", id: "s2") { alerts { title } } }')).twin.alerts).toEqual([{ title: 'fire' }]);
  });

  it('refuses a DateTime that is not ISO 8601', async () => {
    expect(codeOf(await gql(server.url, '{ alerts(since: "yesterday") { id } }'))).toBe('BAD_REQUEST');
  });
});

describe('status and scenarios', () => {
  it('reports engine counters, twins and the node', async () => {
    const d = await data(
      server.url,
      '{ status { version ready uptimeSeconds messagesIn messagesApplied messagesFailed ingestRate twins mailboxDepth connectors { name } nodes { id partitions self } } }',
    );
    expect(d.status.ready).toBe(true);
    expect(d.status.twins).toBe(6);
    expect(d.status.messagesIn).toBeGreaterThanOrEqual(6);
    expect(d.status.messagesApplied).toBeGreaterThanOrEqual(6);
    expect(d.status.nodes).toEqual([{ id: expect.any(String), partitions: 256, self: true }]);
  });
  it('lists no scenarios when none are registered, and triggering an unknown one is NOT_FOUND', async () => {
    expect((await data(server.url, '{ scenarios { name description } }')).scenarios).toEqual([]);
    expect(codeOf(await gql(server.url, 'mutation { triggerScenario(name: "nope") }'))).toBe('NOT_FOUND');
  });
});

describe('typed model API', () => {
  it('queries twins of a model with a state schema through typed fields and filters', async () => {
    const d = await data(
      server.url,
      '{ sensors(where: {level: {gte: 10}}, orderBy: [{field: "level"}]) { totalCount edges { node { id level name on count tags driver lat } } } sensor(id: "s2") { id name level } }',
    );
    expect(d.sensors.totalCount).toBe(2);
    expect(d.sensors.edges.map((e: { node: unknown }) => e.node)).toEqual([
      { id: 's1', level: 12, name: 'alpha', on: true, count: 3, tags: ['red', 'blue'], driver: { name: 'Ann' }, lat: PARIS.lat },
      { id: 's4', level: 20, name: 'delta-alpha', on: null, count: null, tags: null, driver: null, lat: VERSAILLES.lat },
    ]);
    expect(d.sensor).toEqual({ id: 's2', name: 'beta', level: 3 });
  });

  it('combines typed conditions with and / or / not, ids and geo', async () => {
    const q = 'query($w: SensorWhere) { sensors(where: $w) { edges { node { id } } } }';
    const run = async (w: unknown) => (await data(server.url, q, { w })).sensors.edges.map((e: { node: { id: string } }) => e.node.id);
    expect(await run({ name: { contains: 'alpha' }, level: { lt: 15 } })).toEqual(['s1']);
    expect(await run({ or: [{ level: { eq: 3 } }, { name: { in: ['gamma'] } }] })).toEqual(['s2', 's3']);
    expect(await run({ not: { level: { exists: true } } })).toEqual(['s3', 's5']);
    expect(await run({ id: { in: ['s1', 's5'] } })).toEqual(['s1', 's5']);
    expect(await run({ within: { bbox: [170, -20, -170, -10] }, on: { ne: true } })).toEqual(['s2', 's3']);
  });

  it('has no typed API for a model without a state schema', async () => {
    const r = await gql(server.url, '{ notes { totalCount } }');
    expect(r.status).toBe(400);
    expect(codeOf(r)).toBe('BAD_REQUEST');
  });
});

describe('GET', () => {
  it('serves queries over GET with the preflight header and refuses them without (CSRF)', async () => {
    const q = encodeURIComponent('{ twin(model: "sensor", id: "s1") { id } }');
    const ok = await fetch(`${server.url}/graphql?query=${q}`, { headers: { 'apollo-require-preflight': 'true' } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ data: { twin: { id: 's1' } } });
    const refused = await fetch(`${server.url}/graphql?query=${q}`);
    expect(refused.status).toBe(400);
  });
});
