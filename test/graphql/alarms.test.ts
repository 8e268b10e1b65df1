/** The alarm lifecycle and twin history over GraphQL, against a real server with API keys and roles. */
import { describe, expect, it } from 'vitest';
import { codeOf, data, eventually, gql, KEYS, send, subscribe, useGraphqlServer, wsClient } from './helpers.js';

const server = useGraphqlServer({ auth: true });
const operator = KEYS.operator[0];
const viewer = KEYS.viewer[0];

const ALARM = 'id type status acknowledged count firstAt lastAt clearedAt assignee comment comments { author text at } severity title change';
const raise = (id: string, type: string, severity = 'WARNING', title = type) => send(server.url, [[id, { alert: { type, severity, title } }]], operator);
const alarmsOf = async (twinId: string, args = '') => (await data(server.url, `{ alerts(twinId: "${twinId}"${args}) { ${ALARM} } }`, undefined, viewer)).alerts;

describe('Alert lifecycle fields', () => {
  it('shows one de-duplicated alarm per twin and type, with count, first and last time, and a new one after a clear', async () => {
    await raise('q1', 'temp');
    await raise('q1', 'temp', 'CRITICAL', 'burning');
    await eventually(async () => expect((await alarmsOf('q1'))[0]).toMatchObject({ count: 2 }));
    const [a] = await alarmsOf('q1');
    expect(a).toMatchObject({ type: 'temp', status: 'ACTIVE', acknowledged: false, severity: 'CRITICAL', title: 'burning', change: 'SEVERITY' });
    expect(a.assignee).toBeNull();
    expect(a.clearedAt).toBeNull();
    expect(Date.parse(a.lastAt)).toBeGreaterThanOrEqual(Date.parse(a.firstAt));
    await send(server.url, [['q1', { clearAlert: 'temp' }]], operator);
    await eventually(async () => expect((await alarmsOf('q1'))[0].status).toBe('CLEARED'));
    await raise('q1', 'temp');
    await eventually(async () => expect((await alarmsOf('q1')).map((x: { status: string }) => x.status)).toEqual(['ACTIVE', 'CLEARED']));
  });

  it('keeps an alert without a type one alarm each', async () => {
    await send(
      server.url,
      [
        ['q2', { alert: { severity: 'INFO', title: 'x' } }],
        ['q2', { alert: { severity: 'INFO', title: 'x' } }],
      ],
      operator,
    );
    await eventually(async () =>
      expect((await alarmsOf('q2')).map((x: { type: null; count: number }) => [x.type, x.count])).toEqual([
        [null, 1],
        [null, 1],
      ]),
    );
  });
});

describe('Query filters', () => {
  it('filters by status, acknowledgement, type, severity and twin', async () => {
    await raise('f1', 'door', 'INFO');
    await raise('f1', 'smoke', 'ERROR');
    await raise('f2', 'door', 'CRITICAL');
    await eventually(async () => expect(await alarmsOf('f2')).toHaveLength(1));
    const ids = async (args: string) =>
      (await data(server.url, `{ alerts(${args}) { twinId type } }`, undefined, viewer)).alerts.map(
        (a: { twinId: string; type: string }) => `${a.twinId}:${a.type}`,
      );
    expect(await ids('type: "door"')).toEqual(['f2:door', 'f1:door']);
    expect(await ids('type: "door", severity: [INFO, WARNING]')).toEqual(['f1:door']);
    expect(await ids('twinId: "f1", severity: [ERROR, CRITICAL]')).toEqual(['f1:smoke']);
    const smoke = (await alarmsOf('f1', ', type: "smoke"'))[0];
    await data(server.url, 'mutation($id: ID!) { acknowledgeAlert(id: $id) { id } clearAlert(id: $id) { id } }', { id: smoke.id }, operator);
    expect(await ids('twinId: "f1", status: ACTIVE')).toEqual(['f1:door']);
    expect(await ids('twinId: "f1", status: CLEARED, acknowledged: true')).toEqual(['f1:smoke']);
    expect(await ids('model: "sensor", type: "door", status: ACTIVE, acknowledged: false')).toEqual(['f2:door', 'f1:door']);
  });
});

describe('Mutations by role', () => {
  it('lets an operator acknowledge, assign, comment and clear an alarm', async () => {
    await raise('m1', 'pump');
    const [{ id }] = await eventually(async () => {
      const list = await alarmsOf('m1');
      expect(list).toHaveLength(1);
      return list;
    });
    const run = (mutation: string, vars: Record<string, unknown> = {}) => data(server.url, mutation, { id, ...vars }, operator);
    expect((await run('mutation($id: ID!) { acknowledgeAlert(id: $id) { acknowledged change } }')).acknowledgeAlert).toEqual({
      acknowledged: true,
      change: 'ACK',
    });
    expect((await run('mutation($id: ID!) { assignAlert(id: $id, assignee: "ann") { assignee change } }')).assignAlert).toEqual({
      assignee: 'ann',
      change: 'ASSIGN',
    });
    const commented = (await run('mutation($id: ID!) { commentAlert(id: $id, text: "valve replaced") { comment comments { author text } } }')).commentAlert;
    expect(commented).toEqual({ comment: 'valve replaced', comments: [{ author: 'operator', text: 'valve replaced' }] });
    const cleared = (await run('mutation($id: ID!) { clearAlert(id: $id) { status clearedAt change } }')).clearAlert;
    expect(cleared).toMatchObject({ status: 'CLEARED', change: 'CLEAR' });
    expect(typeof cleared.clearedAt).toBe('string');
    expect((await run('mutation($id: ID!) { assignAlert(id: $id, assignee: null) { assignee } }')).assignAlert).toEqual({ assignee: null });
    for (const m of ['clearAlert(id: "nope") { id }', 'assignAlert(id: "nope", assignee: "x") { id }', 'commentAlert(id: "nope", text: "x") { id }']) {
      expect(Object.values(await data(server.url, `mutation { ${m} }`, undefined, operator))).toEqual([null]);
    }
  });

  it('refuses every alarm mutation to a viewer with FORBIDDEN, and an empty comment with BAD_REQUEST', async () => {
    await raise('m2', 'pump');
    const [{ id }] = await eventually(async () => {
      const list = await alarmsOf('m2');
      expect(list).toHaveLength(1);
      return list;
    });
    for (const m of [
      'acknowledgeAlert(id: $id) { id }',
      'clearAlert(id: $id) { id }',
      'assignAlert(id: $id, assignee: "me") { id }',
      'commentAlert(id: $id, text: "hi") { id }',
    ]) {
      const r = await gql(server.url, `mutation($id: ID!) { ${m} }`, { id }, { key: viewer });
      expect(codeOf(r), m).toBe('FORBIDDEN');
    }
    expect((await alarmsOf('m2'))[0]).toMatchObject({ acknowledged: false, status: 'ACTIVE', assignee: null, comments: [] });
    const r = await gql(server.url, 'mutation($id: ID!) { commentAlert(id: $id, text: "") { id } }', { id }, { key: operator });
    expect(codeOf(r)).toBe('BAD_REQUEST');
  });
});

describe('alerts subscription', () => {
  it('reports each lifecycle change: raise, repeat, severity change, ack and clear', async () => {
    const client = wsClient(server.url, viewer);
    const sub = subscribe(client, 'subscription { alerts(model: "sensor") { twinId type change count severity status acknowledged } }');
    await data(server.url, '{ status { ready } }', undefined, viewer);
    await new Promise((r) => setTimeout(r, 100));
    await raise('s1', 'temp');
    await raise('s1', 'temp');
    await raise('s1', 'temp', 'ERROR');
    const seen = [];
    for (let i = 0; i < 3; i++) seen.push((await sub.next()).data.alerts);
    const id = (await alarmsOf('s1'))[0].id;
    await data(server.url, 'mutation($id: ID!) { acknowledgeAlert(id: $id) { id } }', { id }, operator);
    await send(server.url, [['s1', { clearAlert: 'temp' }]], operator);
    for (let i = 0; i < 2; i++) seen.push((await sub.next()).data.alerts);
    expect(seen.map((a) => [a.change, a.count, a.severity, a.status, a.acknowledged])).toEqual([
      ['RAISE', 1, 'WARNING', 'ACTIVE', false],
      ['REPEAT', 2, 'WARNING', 'ACTIVE', false],
      ['SEVERITY', 3, 'ERROR', 'ACTIVE', false],
      ['ACK', 3, 'ERROR', 'ACTIVE', true],
      ['CLEAR', 3, 'ERROR', 'CLEARED', true],
    ]);
    await client.dispose();
  });
});

describe('Twin history', () => {
  it('answers the last states newest first, bounded by the model and by limit', async () => {
    for (let n = 0; n < 12; n++) await send(server.url, [['h1', { set: { level: n } }]], operator);
    const history = async (limit: string) =>
      (await data(server.url, `{ twin(model: "sensor", id: "h1") { history${limit} { at state } } }`, undefined, viewer)).twin.history;
    await eventually(async () => expect((await history(''))[0].state.level).toBe(11));
    const all = await history('');
    expect(all.map((e: { state: { level: number } }) => e.state.level)).toEqual([11, 10, 9, 8, 7, 6, 5, 4, 3, 2]);
    expect(typeof all[0].at).toBe('string');
    expect((await history('(limit: 2)')).map((e: { state: { level: number } }) => e.state.level)).toEqual([11, 10]);
    expect(codeOf(await gql(server.url, '{ twin(model: "sensor", id: "h1") { history(limit: 5000) { at } } }', undefined, { key: viewer }))).toBe(
      'BAD_REQUEST',
    );
  });

  it('is empty for a model that does not opt in', async () => {
    await send(server.url, [['n1', { text: 'hi' }]], operator, 'note');
    await eventually(async () => {
      const d = await data(server.url, '{ twin(model: "note", id: "n1") { id history { at } } }', undefined, viewer);
      expect(d.twin).toEqual({ id: 'n1', history: [] });
    });
  });
});
