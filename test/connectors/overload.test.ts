/**
 * Overload: devices send two and a half times what a slow model can apply, over REST, WebSocket and MQTT at
 * once. REST must answer 429 with Retry-After, WebSocket must stop reading (TCP back-pressure)
 * and MQTT must hold its acks; queued messages and memory stay bounded, and every message that was
 * accepted is applied, in order, exactly once (MQTT: at least once, as its QoS 1 promises).
 */
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MqttTopics } from '@hextwin/shared/protocol';
import { fixtureEnv, range } from '../kit/fixtures.js';
import { metric, sampleOf } from '../kit/metrics.js';
import { startMosquitto, type MosquittoHandle } from '../kit/mosquitto.js';
import { reportWhen, request } from '../kit/rest-client.js';
import { startServer, type ServerHandle } from '../kit/server.js';
import { WsClient } from '../kit/ws-client.js';

const WORK_US = 400; // the slow model applies at most 1e6 / 400 = 2,500 messages a second
const CAPACITY = 1e6 / WORK_US;
const MAX_QUEUED = 2_000;
const BATCH = 100;
const LOAD_MS = 3_000;
let broker: MosquittoHandle;
let server: ServerHandle;

beforeAll(async () => {
  broker = await startMosquitto();
  server = await startServer({ env: { ...fixtureEnv, SLOW_MODEL_US: String(WORK_US), MAX_QUEUED: String(MAX_QUEUED), RATE_LIMIT: '0', MQTT_URL: broker.url } });
});
afterAll(async () => {
  await server?.stop();
  await broker?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Calls `tick` every `everyMs` until `untilMs` (epoch), without piling up when a tick is slow. */
async function paced(everyMs: number, untilMs: number, tick: () => Promise<void>): Promise<void> {
  for (let next = Date.now(); Date.now() < untilMs; next += everyMs) {
    await tick();
    await sleep(Math.max(0, next + everyMs - Date.now()));
  }
}

describe('Overload', () => {
  it('refuses, pauses and delays at over twice the sustainable rate, bounded, losing nothing accepted', async () => {
    const rssBefore = await metric(server.url, 'hextwin_process_resident_memory_bytes');
    const end = Date.now() + LOAD_MS;
    let maxDepth = 0;
    let maxRss = rssBefore;
    const sampler = (async () => {
      while (Date.now() < end + 1_000) {
        const text = await (await fetch(server.url + '/metrics')).text();
        maxDepth = Math.max(maxDepth, sampleOf(text, 'hextwin_mailbox_depth'));
        maxRss = Math.max(maxRss, sampleOf(text, 'hextwin_process_resident_memory_bytes'));
        await sleep(100);
      }
    })();

    // REST: requests fired at the capacity without waiting for answers, each for a twin of its own
    // (concurrent requests have no order between them); a refused request must leave its twin untouched
    const restOutcomes: Promise<{ id: string; status: number }>[] = [];
    let retryAfter: string | null = null;
    const restDevice = async () => {
      let i = 0;
      await paced((BATCH / CAPACITY) * 1000, end, async () => {
        const id = `ov-rest-${i++}`;
        restOutcomes.push(
          request(server.url, 'POST', `/api/v1/messages/slow/${id}`, { body: range(BATCH).map((seq) => ({ seq })) }).then((r) => {
            if (r.status === 429) {
              expect(r.body.error.code).toBe('OVERLOADED');
              retryAfter = r.headers.get('retry-after');
            } else expect(r.status).toBe(202);
            return { id, status: r.status };
          }),
        );
      });
    };

    // WebSocket: one gateway at the capacity; frames are never refused for overload, only held
    const ws = await WsClient.connect(server.url);
    const wsAcks: Promise<number[]>[] = [];
    const wsDevice = async () => {
      let seq = 0;
      await paced((BATCH / CAPACITY) * 1000, end, async () => {
        const seqs = range(BATCH, seq);
        seq += BATCH;
        wsAcks.push(ws.send(seqs.map((s) => ({ model: 'slow', id: 'ov-ws', message: { seq: s } }))).then(() => seqs));
      });
    };

    // MQTT: QoS 1 at half the capacity
    const device = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
    let mqttSent = 0;
    const mqttDevice = async () => {
      await paced(20, end, async () => {
        const n = Math.round((CAPACITY / 2) * 0.02);
        for (let i = 0; i < n; i++) void device.publishAsync(MqttTopics.telemetry('slow', 'ov-mqtt'), JSON.stringify({ seq: mqttSent++ }), { qos: 1 });
      });
    };

    await Promise.all([restDevice(), wsDevice(), mqttDevice()]);
    const rest = await Promise.all(restOutcomes);
    const wsAccepted = (await Promise.all(wsAcks)).flat();
    await sampler;

    // back-pressure was applied on every connector, and queues and memory stayed bounded
    expect(rest.filter((r) => r.status === 429).length).toBeGreaterThan(0);
    expect(rest.filter((r) => r.status === 202).length).toBeGreaterThan(0);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    expect(await metric(server.url, 'hextwin_connector_backpressure_total', { connector: 'ws' })).toBeGreaterThan(0);
    expect(await metric(server.url, 'hextwin_connector_backpressure_total', { connector: 'mqtt' })).toBeGreaterThan(0);
    expect(maxDepth).toBeLessThanOrEqual(MAX_QUEUED + BATCH);
    expect(maxRss - rssBefore).toBeLessThan(200 * 1024 * 1024);

    // nothing accepted is lost, nothing is applied twice, each twin in order
    for (const r of rest) {
      const s = await reportWhen(server.url, 'slow', r.id, (x) => x.count >= (r.status === 202 ? BATCH : 0));
      expect(s.seqs, r.id).toEqual(r.status === 202 ? range(BATCH) : []);
    }
    expect(wsAccepted).toEqual(range(wsAccepted.length));
    const w = await reportWhen(server.url, 'slow', 'ov-ws', (x) => x.count >= wsAccepted.length);
    expect(w.seqs).toEqual(wsAccepted);
    const m = await reportWhen(server.url, 'slow', 'ov-mqtt', (x) => new Set(x.seqs).size >= mqttSent, undefined, 30_000);
    expect(new Set(m.seqs)).toEqual(new Set(range(mqttSent)));
    expect(w.dups).toBe(0);

    await ws.close();
    await device.endAsync();
  });
});
