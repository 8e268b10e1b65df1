import { describe, expect, it } from 'vitest';
import { codeOf, data, eventually, gql, send, useGraphqlServer } from './helpers.js';

const server = useGraphqlServer();

describe('sendToTwin', () => {
  it('creates the twin on its first message and applies later ones in order', async () => {
    expect((await data(server.url, 'mutation { sendToTwin(model: "sensor", id: "m1", message: {set: {level: 1}}) }')).sendToTwin).toBe(true);
    await data(
      server.url,
      'mutation { a: sendToTwin(model: "sensor", id: "m1", message: {set: {level: 2}}) b: sendToTwin(model: "sensor", id: "m1", message: {set: {level: 3}}) }',
    );
    await eventually(async () => expect((await data(server.url, '{ twin(model: "sensor", id: "m1") { state } }')).twin.state).toEqual({ level: 3 }));
  });
  it('refuses an unknown model and a message the model does not accept', async () => {
    expect(codeOf(await gql(server.url, 'mutation { sendToTwin(model: "nope", id: "x", message: {}) }'))).toBe('UNKNOWN_MODEL');
    expect(codeOf(await gql(server.url, 'mutation { sendToTwin(model: "sensor", id: "x", message: 42) }'))).toBe('INVALID_MESSAGE');
  });
});

describe('sendCommand', () => {
  it('queues a command for the device, visible on the twin until acknowledged', async () => {
    await send(server.url, [['m2', { set: { level: 0 } }]]);
    expect((await data(server.url, 'mutation { sendCommand(model: "sensor", id: "m2", command: {op: "reboot", in: 5}) }')).sendCommand).toBe(true);
    expect((await data(server.url, '{ twin(model: "sensor", id: "m2") { pendingCommands } }')).twin.pendingCommands).toEqual([{ op: 'reboot', in: 5 }]);
  });
});

describe('acknowledgeAlert', () => {
  it('marks the alert acknowledged, and answers null for an unknown id', async () => {
    await send(server.url, [['m3', { alert: { severity: 'ERROR', title: 'jammed' } }]]);
    const alert = await eventually(async () => {
      const d = await data(server.url, '{ alerts(twinId: "m3") { id acknowledged } }');
      expect(d.alerts).toHaveLength(1);
      return d.alerts[0];
    });
    expect(alert.acknowledged).toBe(false);
    const d = await data(server.url, 'mutation($id: ID!) { acknowledgeAlert(id: $id) { id acknowledged title } }', { id: alert.id });
    expect(d.acknowledgeAlert).toEqual({ id: alert.id, acknowledged: true, title: 'jammed' });
    expect((await data(server.url, '{ alerts(twinId: "m3", acknowledged: false) { id } }')).alerts).toEqual([]);
    expect((await data(server.url, 'mutation { acknowledgeAlert(id: "no-such-alert") { id } }')).acknowledgeAlert).toBeNull();
  });
});

describe('removeTwin', () => {
  it('removes a twin and says false for one that does not exist', async () => {
    await send(server.url, [['m4', { set: { level: 9 } }]]);
    await eventually(async () => expect((await data(server.url, '{ twin(model: "sensor", id: "m4") { id } }')).twin).not.toBeNull());
    expect((await data(server.url, 'mutation { removeTwin(model: "sensor", id: "m4") }')).removeTwin).toBe(true);
    await eventually(async () => expect((await data(server.url, '{ twin(model: "sensor", id: "m4") { id } }')).twin).toBeNull());
    expect((await data(server.url, '{ twins(model: "sensor", where: {field: "$id", op: EQ, value: "m4"}) { totalCount } }')).twins.totalCount).toBe(0);
    expect((await data(server.url, 'mutation { removeTwin(model: "sensor", id: "m4") }')).removeTwin).toBe(false);
  });
});
