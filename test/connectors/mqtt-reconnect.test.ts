/** The MQTT connector across a broker outage: not ready while disconnected, back with back-off after. */
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MqttTopics } from '@hextwin/shared/protocol';
import { fixtureEnv } from '../kit/fixtures.js';
import { metric } from '../kit/metrics.js';
import { startMosquitto, type MosquittoHandle } from '../kit/mosquitto.js';
import { reportWhen } from '../kit/rest-client.js';
import { startServer, type ServerHandle } from '../kit/server.js';

let broker: MosquittoHandle;
let server: ServerHandle;

beforeAll(async () => {
  broker = await startMosquitto();
  server = await startServer({ env: { ...fixtureEnv, MQTT_URL: broker.url } });
});
afterAll(async () => {
  await server?.stop();
  await broker?.stop();
});

async function until<T>(what: string, probe: () => Promise<T>, ok: (v: T) => boolean, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const readyz = async () => {
  const r = await fetch(server.url + '/readyz');
  return { status: r.status, body: (await r.json()) as { failing?: Record<string, string>; connectors?: { name: string; state: string }[] } };
};

async function publish(seq: number, qos: 0 | 1 = 1): Promise<void> {
  const device = await mqtt.connectAsync(broker.url, { protocolVersion: 5, reconnectPeriod: 0 });
  await device.publishAsync(MqttTopics.telemetry('probe', 'outage'), JSON.stringify({ seq }), { qos });
  await device.endAsync();
}

describe('MQTT broker outage', () => {
  it('reports the broker in /readyz and /metrics, and reconnects with back-off once it is back', async () => {
    const up = await readyz();
    expect(up.status).toBe(200);
    expect(up.body.connectors).toContainEqual({ name: 'mqtt', state: 'up', connections: 1 });
    expect(await metric(server.url, 'hextwin_connector_up', { connector: 'mqtt' })).toBe(1);
    await publish(1);

    await broker.stop();
    const down = await until('readyz to fail', readyz, (r) => r.status === 503);
    expect(down.body.failing?.mqtt).toMatch(/not connected to the MQTT broker/);
    expect(await metric(server.url, 'hextwin_connector_up', { connector: 'mqtt' })).toBe(0);
    // REST goes on meanwhile
    expect(
      (
        await fetch(server.url + '/api/v1/messages/probe/rest-meanwhile', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"seq":1}',
        })
      ).status,
    ).toBe(202);

    broker = await startMosquitto({ port: broker.port });
    await until('readyz to pass again', readyz, (r) => r.status === 200);
    expect(await metric(server.url, 'hextwin_connector_up', { connector: 'mqtt' })).toBe(1);
    await publish(2);
    await publish(3, 0);
    expect((await reportWhen(server.url, 'probe', 'outage', (s) => s.count >= 3)).seqs).toEqual([1, 2, 3]);
  });
});
