import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { JetStreamRefusal, JsPublisher } from '@hextwin/server/cluster/js-publisher';
import { ensureClusterStreams } from '@hextwin/server/cluster/jetstream';
import { clusterNames } from '@hextwin/server/cluster/names';
import { startNats, type NatsHandle } from '../kit/nats.js';

let nats: NatsHandle;
let nc: NatsConnection;
let pub: JsPublisher;
const names = clusterNames('pub');
const subject = (n: number) => names.logSubject(n);

beforeAll(async () => {
  nats = await startNats();
  nc = await connect({ servers: nats.url });
  await ensureClusterStreams(nc, names);
  pub = new JsPublisher(nc);
});
afterAll(async () => {
  pub?.close();
  await nc?.close();
  await nats?.cleanup();
});

describe('JetStream publisher', () => {
  it('resolves with the stream sequence once JetStream stored the message', async () => {
    const a = await pub.publish(subject(1), new Uint8Array([1]));
    const b = await pub.publish(subject(1), new Uint8Array([2]));
    expect(a).toMatchObject({ stream: names.logStream, duplicate: false });
    expect(b.seq).toBe(a.seq + 1);
  });

  it('answers a message id seen before with the first sequence, marked duplicate', async () => {
    const a = await pub.publish(subject(2), new Uint8Array([1]), { msgID: 'once' });
    const again = await pub.publish(subject(2), new Uint8Array([1]), { msgID: 'once' });
    expect(again).toEqual({ stream: names.logStream, seq: a.seq, duplicate: true });
  });

  it('refuses a write that expected another last sequence on its subject', async () => {
    const a = await pub.publish(subject(3), new Uint8Array([1]), { expectLastSubjectSequence: 0 });
    await pub.publish(subject(3), new Uint8Array([2]), { expectLastSubjectSequence: a.seq });
    const err = await pub.publish(subject(3), new Uint8Array([3]), { expectLastSubjectSequence: a.seq }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JetStreamRefusal);
    expect((err as JetStreamRefusal).wrongLastSequence).toBe(true);
  });

  it('rejects with CLUSTER_UNAVAILABLE when no stream takes the subject', async () => {
    await expect(pub.publish('nostream.x', new Uint8Array([1]), { timeoutMs: 2_000 })).rejects.toMatchObject({ code: 'CLUSTER_UNAVAILABLE' });
  });
});
