/**
 * A user's own model on a large map: the dashboard no longer guesses from the sample models' field
 * names whether a twin is alerting; the model declares `level(state)`, GraphQL has it as
 * `Twin.level`, and filters (hence continuous queries) select on `$level`. The inspector follows
 * one twin by id, so a twin without a location stays live too.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, startServer, type ServerHandle } from '../kit/server.js';
import { data, eventually, send, subscribe, wsClient } from '../graphql/helpers.js';

let server: ServerHandle;

beforeAll(async () => {
  server = await startServer({ env: { MODELS_DIR: path.join(repoRoot, 'test/fixtures/level-models') } });
});
afterAll(async () => {
  await server?.stop();
});

const levelOf = async (model: string, id: string) =>
  (await data<{ twin: { level: string | null } | null }>(server.url, 'query($m: String!, $id: ID!) { twin(model: $m, id: $id) { level } }', { m: model, id }))
    .twin?.level;

describe('Twin.level', () => {
  it('is what the model declares for its state, and null when normal', async () => {
    await send(
      server.url,
      [
        ['b1', { pressureBar: 1 }],
        ['b2', { pressureBar: 4 }],
        ['b3', { pressureBar: 7 }],
      ],
      undefined,
      'boiler',
    );
    await eventually(async () => expect(await levelOf('boiler', 'b3')).toBe('CRITICAL'));
    expect(await levelOf('boiler', 'b2')).toBe('WARNING');
    expect(await levelOf('boiler', 'b1')).toBeNull();
  });

  it('comes from the sample models too: a sounded gas alarm is CRITICAL', async () => {
    await send(server.url, [['g1', { ppm: 300, timestamp: Date.now(), lat: 40, lng: -74 }]], undefined, 'gas-sensor');
    await eventually(async () => expect(await levelOf('gas-sensor', 'g1')).toBe('CRITICAL'));
  });

  it('is null when the level function answers something that is not a Severity, or throws', async () => {
    await send(
      server.url,
      [
        ['f1', { n: 1 }],
        ['f2', { n: 2 }],
      ],
      undefined,
      'flaky',
    );
    await eventually(async () => expect((await data(server.url, '{ twins(model: "flaky") { totalCount } }')).twins.totalCount).toBe(2));
    expect(await levelOf('flaky', 'f1')).toBeNull();
    expect(await levelOf('flaky', 'f2')).toBeNull();
    const r = await data<{ twins: { totalCount: number } }>(server.url, '{ twins(model: "flaky", where: { field: "$level", op: EXISTS }) { totalCount } }');
    expect(r.twins.totalCount).toBe(0);
  });
});

describe('$level in filters', () => {
  it('selects the alerting twins of a model, and the ones at given levels', async () => {
    const ids = async (where: unknown) =>
      (
        await data<{ twins: { edges: { node: { id: string } }[] } }>(
          server.url,
          'query($w: TwinFilter) { twins(model: "boiler", where: $w) { edges { node { id } } } }',
          { w: where },
        )
      ).twins.edges.map((e) => e.node.id);
    await eventually(async () => expect(await ids({ field: '$level', op: 'EXISTS' })).toEqual(['b2', 'b3']));
    expect(await ids({ field: '$level', op: 'IN', value: ['CRITICAL'] })).toEqual(['b3']);
    expect(await ids({ field: '$level', op: 'EXISTS', value: false })).toEqual(['b1']);
  });

  it('drives a continuous query: a twin enters when it starts alerting and leaves when it is normal again', async () => {
    const client = wsClient(server.url);
    const sub = subscribe(client, 'subscription { twinChanges(model: "boiler", where: { field: "$level", op: EXISTS }) { kind id twin { level } } }');
    const initial = [(await sub.next()).data.twinChanges, (await sub.next()).data.twinChanges];
    expect(initial.map((c: { id: string }) => c.id).sort()).toEqual(['b2', 'b3']);
    await send(server.url, [['b1', { pressureBar: 3.5 }]], undefined, 'boiler');
    expect((await sub.next()).data.twinChanges).toEqual({ kind: 'ENTER', id: 'b1', twin: { level: 'WARNING' } });
    await send(server.url, [['b1', { pressureBar: 1 }]], undefined, 'boiler');
    expect((await sub.next()).data.twinChanges).toMatchObject({ kind: 'LEAVE', id: 'b1' });
    await sub.close();
    await client.dispose();
  });
});

describe('Following one twin', () => {
  it('streams every change of a twin without a location through twinChanges on $id', async () => {
    const client = wsClient(server.url);
    const sub = subscribe(
      client,
      'subscription { twinChanges(model: "boiler", where: { field: "$id", op: EQ, value: "b2" }) { kind id twin { state level lat } } }',
    );
    expect((await sub.next()).data.twinChanges).toMatchObject({ kind: 'ENTER', id: 'b2', twin: { lat: null, level: 'WARNING' } });
    await send(server.url, [['b2', { pressureBar: 8 }]], undefined, 'boiler');
    expect((await sub.next()).data.twinChanges).toEqual({ kind: 'UPDATE', id: 'b2', twin: { state: { pressureBar: 8 }, level: 'CRITICAL', lat: null } });
    await sub.close();
    await client.dispose();
  });
});
