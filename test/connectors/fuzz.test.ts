/**
 * Thousands of malformed inputs at each connector (REST, WebSocket, MQTT, and raw bytes at the
 * HTTP port), after which the server must be healthy, still accepting, counting what it refused,
 * and every message accepted before must be intact.
 */
import net from 'node:net';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MqttTopics } from '@hextwin/shared/protocol';
import { fixtureEnv, range } from '../kit/fixtures.js';
import { Malformed } from '../kit/malformed.js';
import { metric } from '../kit/metrics.js';
import { startMosquitto, type MosquittoHandle } from '../kit/mosquitto.js';
import { postMessages, report, reportWhen, request } from '../kit/rest-client.js';
import { startServer, type ServerHandle } from '../kit/server.js';
import { WsClient } from '../kit/ws-client.js';

const SEED = 20_26;
const N = 2_000;
let broker: MosquittoHandle;
let server: ServerHandle;

beforeAll(async () => {
  broker = await startMosquitto();
  server = await startServer({ env: { ...fixtureEnv, MQTT_URL: broker.url, MAX_BODY_BYTES: String(256 * 1024), RATE_LIMIT: '0' } });
});
afterAll(async () => {
  await server?.stop();
  await broker?.stop();
});

/** Run `task(i)` for i < n with at most `width` in flight. */
async function pool(n: number, width: number, task: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    range(width).map(async () => {
      while (next < n) await task(next++);
    }),
  );
}

async function acceptKnown(): Promise<void> {
  await postMessages(
    server.url,
    'probe',
    'fz-rest',
    range(50).map((seq) => ({ seq })),
  );
  const ws = await WsClient.connect(server.url);
  await ws.send(range(50).map((seq) => ({ model: 'probe', id: 'fz-ws', message: { seq } })));
  await ws.close();
  const device = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
  for (const seq of range(50)) await device.publishAsync(MqttTopics.telemetry('probe', 'fz-mqtt'), JSON.stringify({ seq }), { qos: 1 });
  await device.endAsync();
  await reportWhen(server.url, 'probe', 'fz-mqtt', (s) => s.count >= 50);
}

async function fuzzRest(m: Malformed): Promise<void> {
  const paths = () =>
    m.pick([
      '/api/v1/messages/probe/fz-junk',
      '/api/v1/messages',
      `/api/v1/messages/${encodeURIComponent(m.name())}/${encodeURIComponent(m.name())}`,
      `/api/v1/messages/probe/${m.name()}/ack`,
      '/api/v1/messages/probe',
    ]);
  await pool(N, 16, async () => {
    const method = m.pick(['POST', 'POST', 'POST', 'GET', 'PUT', 'DELETE']);
    const body = method === 'GET' || method === 'DELETE' ? undefined : m.json();
    const contentType = m.pick(['application/json', 'application/x-ndjson', 'text/plain', 'application/octet-stream']);
    const path = paths();
    const r = await request(server.url, method, path, { body, contentType }).catch((e: Error) => ({ status: 0, body: e.message }));
    // a refusal is coded; an accepted junk message can only be one the probe model's schema allows
    if (r.status >= 400) expect(typeof (r.body as { error?: { code?: unknown } })?.error?.code).toBe('string');
    expect(r.status).not.toBe(500);
  });
}

async function fuzzWs(m: Malformed): Promise<number> {
  let c = await WsClient.connect(server.url);
  let connections = 1;
  for (let i = 0; i < N; i++) {
    if (i % 20 === 0) await c.roundTrip();
    if (c.ws.readyState !== c.ws.OPEN) {
      c = await WsClient.connect(server.url);
      connections++;
    }
    const payload = m.json();
    switch (m.int(5)) {
      case 0:
        c.raw(payload, m.int(2) === 1);
        break;
      case 1:
        c.raw(Buffer.concat([Buffer.from(`{"type":"msg","fid":${i},"model":"probe","id":"fz-junk-ws","message":`), payload, Buffer.from('}')]));
        break;
      case 2:
        c.raw(
          JSON.stringify({
            type: m.pick(['batch', 'msg', 'hello', 'cmd-ack', 'ping', 'nope']),
            fid: m.pick([i, null, {}, [], 'x'.repeat(1000)]),
            items: m.pick([null, 5, [1, 2], [{ model: m.name(), id: m.name(), message: 1 }]]),
            cids: m.pick([[1], 'x', ['c1']]),
          }),
        );
        break;
      case 3:
        c.raw(JSON.stringify({ type: 'msg', fid: `f${i}`, model: m.name(), id: m.name(), message: {} }));
        break;
      default:
        c.raw(m.bytes(400).toString('latin1'));
    }
  }
  await c.close().catch(() => undefined);
  return connections;
}

async function fuzzMqtt(m: Malformed): Promise<void> {
  // topics the broker accepts (it drops a client for control characters in a topic): odd, unknown or invalid names
  const level = () => m.name().replace(/[\u0000-\u001f\u007f-\u009f+#/]/g, '_') || '_';
  for (let chunk = 0; chunk < N; chunk += 250) {
    const device = await mqtt.connectAsync(broker.url, { protocolVersion: 5, reconnectPeriod: 0 });
    const publishes = range(Math.min(250, N - chunk)).map(() => {
      const topic = m.int(3) === 0 ? MqttTopics.telemetry('probe', `fz-junk-mqtt-${m.int(10)}`) : `hextwin/${level()}/${level()}/telemetry`;
      return device.publishAsync(topic, m.json(), { qos: m.pick([0, 1] as const) });
    });
    await Promise.all(publishes);
    await device.endAsync();
  }
}

async function fuzzRawHttp(m: Malformed): Promise<void> {
  await pool(100, 10, async () => {
    const s = net.connect(server.port, '127.0.0.1');
    await new Promise<void>((resolve) => {
      s.on('error', () => resolve());
      s.on('close', () => resolve());
      s.on('data', () => undefined);
      s.write(
        m.pick([
          m.bytes(500),
          Buffer.from('GET /ingest HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n'),
          Buffer.from('POST /api/v1/messages/probe/x HTTP/1.1\r\ncontent-length: -5\r\n\r\n'),
          Buffer.from('GARBAGE / HTTP/9.9\r\n\r\n'),
        ]),
      );
      setTimeout(() => s.destroy(), 200);
    });
  });
}

describe('Fuzz', () => {
  it('survives thousands of malformed inputs on every connector with every accepted message intact', async () => {
    await acceptKnown();
    const refusedBefore = await metric(server.url, 'hextwin_errors_total');
    const m = new Malformed(SEED);
    await fuzzRest(m);
    // broken frames close connections (invalid UTF-8: 1007, oversize: 1009); the fuzzer reconnects
    expect(await fuzzWs(m)).toBeGreaterThan(1);
    await fuzzMqtt(m);
    await fuzzRawHttp(m);

    expect((await fetch(server.url + '/healthz')).status).toBe(200);
    expect((await fetch(server.url + '/readyz')).status).toBe(200);
    expect(await metric(server.url, 'hextwin_errors_total')).toBeGreaterThan(refusedBefore + N);
    for (const c of ['rest', 'ws', 'mqtt']) expect(await metric(server.url, 'hextwin_connector_errors_total', { connector: c })).toBeGreaterThan(0);

    for (const id of ['fz-rest', 'fz-ws', 'fz-mqtt']) {
      const s = await report(server.url, 'probe', id);
      expect(s.seqs, id).toEqual(range(50));
      expect(s.dups, id).toBe(0);
    }
    // and it goes on accepting on every channel
    expect(await postMessages(server.url, 'probe', 'fz-after', { seq: 1 })).toBe(1);
    const ws = await WsClient.connect(server.url);
    expect(await ws.send([{ model: 'probe', id: 'fz-after', message: { seq: 2 } }])).toBe(1);
    await ws.close();
    const device = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
    await device.publishAsync(MqttTopics.telemetry('probe', 'fz-after'), JSON.stringify({ seq: 3 }), { qos: 1 });
    await device.endAsync();
    expect((await reportWhen(server.url, 'probe', 'fz-after', (s) => s.count >= 3)).seqs).toEqual([1, 2, 3]);
  });
});
