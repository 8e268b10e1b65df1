/**
 * Aggregate feedback in a cluster: twins owned by different nodes read one cluster-wide aggregate
 * (each node's index covers the whole cluster through its view of the other owners' twins).
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type ClusterHandle } from '../kit/cluster.js';
import { repoRoot } from '../kit/server.js';
import { postMessages, request } from '../kit/rest-client.js';
import { eventually } from '../graphql/helpers.js';
import { partition } from '@hextwin/shared';

let c: ClusterHandle;

beforeAll(async () => {
  c = await startCluster({
    nodes: 2,
    env: { MODELS_DIR: path.join(repoRoot, 'test/fixtures/feedback-models'), HEXTWIN_SAMPLE_MODELS: '0', CLUSTER_NODE_TTL_MS: '1500' },
  });
}, 120_000);
afterAll(async () => {
  await c?.stop();
});

const VANS = Array.from({ length: 16 }, (_, i) => `v${i}`);

describe('Aggregate feedback across owners', () => {
  it("lets every van, whichever node owns it, see its region's count and average over the whole cluster", async () => {
    // both nodes own partitions before the vans arrive
    await eventually(async () => {
      const r = await request(c.nodes[0]!.url, 'GET', '/api/v1/cluster');
      expect(new Set((r.body.partitions as (string | null)[]).filter(Boolean)).size).toBe(2);
    }, 60_000);
    for (const [i, id] of VANS.entries()) await postMessages(c.nodes[i % 2]!.url, 'van', id, { region: 'north', delayMin: i });
    await eventually(async () => {
      for (const [i, id] of VANS.entries()) {
        await postMessages(c.nodes[(i + 1) % 2]!.url, 'van', id, { region: 'north', delayMin: i });
        const r = await request(c.nodes[0]!.url, 'GET', `/api/v1/cluster/twins/van/${id}`);
        expect(r.status).toBe(200);
        expect(r.body.state).toMatchObject({ regionCount: VANS.length, regionAvg: 7.5 });
      }
    }, 30_000);
    // the vans were spread over both owners
    const st = await request(c.nodes[0]!.url, 'GET', '/api/v1/cluster');
    expect(new Set(VANS.map((id) => st.body.partitions[partition('van', id)])).size).toBe(2);
  }, 90_000);
});
