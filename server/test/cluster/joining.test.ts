/**
 * Joining a cluster on a real nats-server (started here): a second process with a NODE_ID that a
 * live node uses is refused with NODE_ID_IN_USE (a node restarted after its process died is not);
 * NATS_REPLICAS is applied to new streams, refused when NATS cannot keep that many copies, and
 * reported when existing streams have another value.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineModel, isHextwinError } from '@hextwin/shared';
import type { ClusterNode } from '../../src/cluster/cluster-node.js';
import { startNats, type NatsHandle } from '../../../test/kit/nats.js';
import { clusterNode } from './helpers.js';

const noop = defineModel<Record<string, never>, Record<string, never>>({ name: 'noop', init: () => ({}), process: () => 'none' });

let nats: NatsHandle;
const running: ClusterNode[] = [];
beforeAll(async () => {
  nats = await startNats();
});
afterAll(async () => {
  for (const n of running) await n.stop();
  await nats?.cleanup();
});

async function startError(node: ClusterNode): Promise<unknown> {
  try {
    await node.start();
    running.push(node);
    return null;
  } catch (e) {
    return e;
  }
}

describe('NODE_ID', () => {
  it('refuses a second process with the NODE_ID of a live node', async () => {
    const first = clusterNode(nats.url, 'twin-node', [noop], { prefix: 'ids' });
    expect(await startError(first)).toBeNull();
    const e = await startError(clusterNode(nats.url, 'twin-node', [noop], { prefix: 'ids' }));
    expect(isHextwinError(e) && e.code).toBe('NODE_ID_IN_USE');
    expect((e as Error).message).toContain('twin-node');
    // the first is untouched: still the owner of every partition
    expect(first.localPartitions()).toHaveLength(256);
  });

  it('lets a node start again under its id once the old process is gone', async () => {
    const old = clusterNode(nats.url, 'phoenix', [noop], { prefix: 'ids2' });
    await old.start();
    // the process dies: its connection goes, its heartbeat entry stays behind
    await (old as unknown as { conn: { nc: { close(): Promise<void> } } }).conn.nc.close();
    expect(await startError(clusterNode(nats.url, 'phoenix', [noop], { prefix: 'ids2' }))).toBeNull();
  });
});

describe('NATS_REPLICAS', () => {
  it('refuses more replicas than a single server can keep with CONFIG_INVALID', async () => {
    const e = await startError(clusterNode(nats.url, 'r3', [noop], { prefix: 'fresh', nats: { replicas: 3 } }));
    expect(isHextwinError(e) && e.code).toBe('CONFIG_INVALID');
    expect((e as Error).message).toContain('NATS_REPLICAS=3');
  });

  it('reports existing streams whose replicas differ from NATS_REPLICAS', async () => {
    const a = clusterNode(nats.url, 'r1', [noop], { prefix: 'reps', nats: { replicas: 1 } });
    expect(await startError(a)).toBeNull();
    expect(a.status().replicas).toEqual({ wanted: 1, streams: expect.arrayContaining([{ stream: 'REPS_LOG', replicas: 1 }]) });
    const b = clusterNode(nats.url, 'r3b', [noop], { prefix: 'reps', nats: { replicas: 3 } });
    expect(await startError(b)).toBeNull();
    const st = b.status().replicas!;
    expect(st.wanted).toBe(3);
    expect(st.streams.map((s) => s.stream).sort()).toEqual([
      'KV_reps_leases',
      'KV_reps_nodes',
      'KV_reps_quarantine',
      'KV_reps_shared',
      'REPS_LOG',
      'REPS_STATE',
    ]);
    expect(st.streams.every((s) => s.replicas === 1)).toBe(true);
  });
});
