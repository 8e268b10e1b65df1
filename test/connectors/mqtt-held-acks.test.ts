/**
 * The PUBACK of a QoS 1 message leaves only once its outcome is known, while mqtt.js goes on
 * reading further messages; a PUBACK owed by a lost connection is never sent, so the broker
 * redelivers. Checked against a real mosquitto with the server's PubackHolder.
 */
import { randomUUID } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PubackHolder } from '@hextwin/server/connectors/mqtt-held-acks';
import { startMosquitto, type MosquittoHandle } from '../kit/mosquitto.js';
import { withTimeout } from '../kit/ws-client.js';

let broker: MosquittoHandle;
beforeAll(async () => {
  broker = await startMosquitto();
});
afterAll(async () => {
  await broker?.stop();
});

interface Taken {
  messageId: number;
  payload: string;
  dup: boolean;
  settle: (code: number) => void;
}

/** A subscriber like the server's: persistent session, acks held until the test settles each message. */
async function subscriber(clientId: string, topic: string) {
  const taken: Taken[] = [];
  const waiters: (() => void)[] = [];
  // the holder must exist before the first packet: a persistent session redelivers right after CONNACK
  let holder: PubackHolder | null = null;
  const client: MqttClient = mqtt.connect(broker.url, {
    protocolVersion: 5,
    clientId,
    clean: false,
    reconnectPeriod: 0,
    properties: { sessionExpiryInterval: 600 },
    customHandleAcks(_topic, payload, packet, done) {
      let settle!: (code: number) => void;
      const outcome = new Promise<number>((r) => (settle = r));
      holder!.hold(packet.messageId!, packet.topic, payload as Buffer, outcome);
      taken.push({ messageId: packet.messageId!, payload: payload.toString(), dup: packet.dup, settle });
      done(0);
      waiters.splice(0).forEach((w) => w());
    },
  });
  holder = new PubackHolder(client);
  client.on('connect', () => holder!.newConnection());
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  await client.subscribeAsync(topic, { qos: 1 });
  const until = (n: number) =>
    withTimeout(
      (async () => {
        while (taken.length < n) await new Promise<void>((r) => waiters.push(r));
      })(),
      5_000,
      `${n} messages`,
    );
  return { client, holder: holder as PubackHolder, taken, until };
}

describe('Held PUBACKs', () => {
  it('reads further messages while the first one is still unacknowledged', async () => {
    const topic = `t/${randomUUID()}`;
    const sub = await subscriber(`held-${randomUUID().slice(0, 8)}`, topic);
    const pub = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
    for (const p of ['a', 'b', 'c']) await pub.publishAsync(topic, p, { qos: 1 });
    await sub.until(3);
    expect(sub.taken.map((t) => t.payload)).toEqual(['a', 'b', 'c']);
    expect(sub.holder.supported).toBe(true);
    sub.taken.forEach((t) => t.settle(0));
    await sub.holder.drained();
    await pub.endAsync();
    await sub.client.endAsync();
  });

  it('never sends a PUBACK owed by a lost connection: the broker redelivers exactly the unsettled messages', async () => {
    const topic = `t/${randomUUID()}`;
    const clientId = `held-${randomUUID().slice(0, 8)}`;
    const first = await subscriber(clientId, topic);
    const pub = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
    for (const p of ['m1', 'm2', 'm3']) await pub.publishAsync(topic, p, { qos: 1 });
    await first.until(3);
    // m1 settles (durable): its PUBACK goes out. m2 and m3 never settle before the connection is lost.
    first.taken[0]!.settle(0);
    await new Promise((r) => setTimeout(r, 200));
    first.taken[2]!.settle(0); // settled, but queued behind m2: PUBACKs leave in arrival order
    await new Promise((r) => setTimeout(r, 200));
    first.client.stream.destroy();
    await new Promise((r) => setTimeout(r, 200));

    const second = await subscriber(clientId, topic);
    await second.until(2);
    expect(second.taken.map((t) => [t.payload, t.dup])).toEqual([
      ['m2', true],
      ['m3', true],
    ]);
    second.taken.forEach((t) => t.settle(0));
    await second.holder.drained();
    await pub.endAsync();
    await second.client.endAsync();
  });

  it('recognises a redelivered message it already took in, with its earlier outcome', async () => {
    const topic = `t/${randomUUID()}`;
    const sub = await subscriber(`held-${randomUUID().slice(0, 8)}`, topic);
    const pub = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
    await pub.publishAsync(topic, 'once', { qos: 1 });
    await sub.until(1);
    const messageId = sub.taken[0]!.messageId;
    // the connection is replaced before the outcome is known
    sub.holder.newConnection();
    const again = sub.holder.redelivered(messageId, topic, Buffer.from('once'));
    const other = sub.holder.redelivered(messageId, topic, Buffer.from('different payload'));
    expect(other).toBeUndefined();
    expect(again).toBeInstanceOf(Promise);
    sub.taken[0]!.settle(0);
    expect(await again).toBe(0);
    await pub.endAsync();
    await sub.client.endAsync();
  });
});
