/**
 * The cluster's quarantine bucket is the one authority on quarantined twins: a record that appears
 * in it (as a dying node's watchdog puts it) reaches every node — ingest refused with
 * TWIN_QUARANTINED, listed, counted in /metrics — and a release on any node lets the twin run again
 * everywhere. Two nodes in this process on a real nats-server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { defineModel } from '@hextwin/shared';
import { quarantineKey } from '../../src/cluster/cluster-quarantine.js';
import { clusterNames } from '../../src/cluster/names.js';
import { startNats, type NatsHandle } from '../../../test/kit/nats.js';
import { clusterNode, eventually, metricValue } from './helpers.js';

const counter = defineModel<{ n: number }, Record<string, never>>({
  name: 'counter',
  init: () => ({ n: 0 }),
  process(_ctx, s, msgs) {
    s.n += msgs.length;
    return 'update';
  },
});

let nats: NatsHandle;
let nc: NatsConnection;
const nodes: ReturnType<typeof clusterNode>[] = [];

beforeAll(async () => {
  nats = await startNats();
  for (const id of ['a', 'b']) {
    const n = clusterNode(nats.url, id, [counter]);
    await n.start();
    nodes.push(n);
  }
  nc = await connect({ servers: nats.url });
}, 60_000);
afterAll(async () => {
  await nc?.close();
  for (const n of nodes) await n.stop();
  await nats?.cleanup();
});

const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 'accepted',
    (e: { code?: string }) => e.code,
  );

describe('Cluster quarantine bucket', () => {
  it('refuses a twin on every node once its record is in the bucket, and runs it again after a release on any node', async () => {
    const [a, b] = nodes as [ReturnType<typeof clusterNode>, ReturnType<typeof clusterNode>];
    await a.ingest([{ model: 'counter', id: 'x', message: {} }]);
    await eventually(
      'applied',
      () => b.twin('counter', 'x')?.state,
      (s) => (s as { n?: number } | undefined)?.n === 1,
    );

    const kv = await new Kvm(nc).open(clusterNames().quarantineBucket);
    const rec = { model: 'counter', id: 'x', code: 'MODEL_TIMEOUT', reason: 'its model code ran for more than 300 ms without returning', at: Date.now() };
    await kv.put(quarantineKey('counter', 'x'), JSON.stringify(rec));

    for (const n of [a, b]) {
      await eventually(
        'listed',
        async () => n.quarantined(),
        (l) => l.length === 1,
      );
      expect(n.quarantined()).toEqual([rec]);
      expect(await codeOf(n.ingest([{ model: 'counter', id: 'x', message: {} }]))).toBe('TWIN_QUARANTINED');
      expect(await metricValue(n.registry, 'hextwin_quarantined_twins')).toBe(1);
    }
    // other twins are not affected
    expect(await codeOf(a.ingest([{ model: 'counter', id: 'y', message: {} }]))).toBe('accepted');

    expect(await b.releaseQuarantine('counter', 'x')).toBe(true);
    expect(await b.releaseQuarantine('counter', 'x')).toBe(false);
    expect((await kv.get(quarantineKey('counter', 'x')))?.operation).not.toBe('PUT');
    await eventually(
      'released on a',
      async () => a.quarantined(),
      (l) => l.length === 0,
    );
    expect(await metricValue(a.registry, 'hextwin_quarantined_twins')).toBe(0);
    await a.ingest([{ model: 'counter', id: 'x', message: {} }]);
    await eventually(
      'applied again',
      () => b.twin('counter', 'x')?.state,
      (s) => (s as { n?: number } | undefined)?.n === 2,
    );
  });
});
