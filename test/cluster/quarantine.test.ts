/**
 * Model isolation in a cluster: a model that loops forever ends only the node that ran it. Its
 * watchdog puts the twin into the cluster's quarantine before the kill, so the node that takes
 * the partition over does not replay the message into the same wall (no cascade of dying nodes);
 * every node refuses the twin with TWIN_QUARANTINED and reports it, the partition's other twins
 * keep working, and the killed node comes back. An async batch that never settles times out.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partition } from '@hextwin/shared';
import { startCluster, type ClusterHandle } from '../kit/cluster.js';
import { metric } from '../kit/metrics.js';
import { repoRoot } from '../kit/server.js';
import { eventually, ownerTwin, post } from './load.js';

const env = {
  HEXTWIN_SAMPLE_MODELS: '0',
  MODELS_DIR: path.join(repoRoot, 'test/fixtures/hang-models'),
  MODEL_WATCHDOG_MS: '300',
  MODEL_TIMEOUT_MS: '500',
};
const STUCK = 'stuck';
const P = partition('hang', STUCK);
/** another twin of the same partition */
const SIBLING = Array.from({ length: 100_000 }, (_, i) => `s${i}`).find((id) => partition('hang', id) === P)!;

let c: ClusterHandle;
beforeAll(async () => {
  c = await startCluster({ nodes: 3, env });
}, 120_000);
afterAll(async () => {
  await c?.stop();
});

const send = (url: string, model: string, id: string, message: unknown) => post(`${url}/api/v1/messages/${model}/${encodeURIComponent(id)}`, message);

async function owners(url: string): Promise<string[] | undefined> {
  try {
    const r = await fetch(url + '/api/v1/cluster');
    return r.status === 200 ? ((await r.json()) as { partitions: string[] }).partitions : undefined;
  } catch {
    return undefined;
  }
}

async function quarantined(url: string): Promise<{ model: string; id: string; code: string; reason: string }[]> {
  const r = await post(url + '/graphql', { query: '{ quarantined { model id code reason } }' });
  return ((await r.json()) as { data: { quarantined: { model: string; id: string; code: string; reason: string }[] } }).data.quarantined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function readyz(url: string): Promise<number> {
  const r = await fetch(url + '/readyz');
  await r.arrayBuffer();
  return r.status;
}

describe('Model isolation in a cluster', () => {
  it('ends only the node whose model looped forever, quarantines the twin on every node, and takes the node back after a restart', async () => {
    const ownerId = (await eventually(
      'partition owners',
      () => owners(c.nodes[0]!.url),
      (o) => !!o?.[P],
    ))![P]!;
    const victim = c.nodes.findIndex((_, i) => `node-${i + 1}` === ownerId);
    expect(victim).toBeGreaterThanOrEqual(0);
    const others = c.nodes.map((_, i) => i).filter((i) => i !== victim);
    const via = c.nodes[others[0]!]!;
    const pids = others.map((i) => c.nodes[i]!.pid);

    expect((await send(via.url, 'hang', SIBLING, { n: 1 })).status).toBe(202);
    await eventually(
      'the sibling applied',
      () => ownerTwin<{ n: number }>(via.url, 'hang', SIBLING),
      (t) => t?.state.n === 1,
    );

    // acknowledged (durable in JetStream) before its owner runs it and hangs
    expect((await send(via.url, 'hang', STUCK, { loop: true })).status).toBe(202);
    const victimPid = c.nodes[victim]!.pid;
    await eventually(
      'the owner process ends',
      async () => alive(victimPid),
      (a) => !a,
      20_000,
      50,
    );
    expect(c.nodes[victim]!.output()).toContain('MODEL_TIMEOUT');

    // another node owns the partition now and has replayed past the message that hung the first
    await eventually(
      'the partition taken over',
      () => owners(via.url),
      (o) => !!o?.[P] && o[P] !== ownerId,
    );
    expect((await send(via.url, 'hang', SIBLING, { n: 2 })).status).toBe(202);
    await eventually(
      'the sibling applied after the takeover',
      () => ownerTwin<{ n: number }>(via.url, 'hang', SIBLING),
      (t) => t?.state.n === 2,
      20_000,
    );

    for (const i of others) {
      const url = c.nodes[i]!.url;
      const refused = await send(url, 'hang', STUCK, { n: 2 });
      expect(refused.status).toBe(409);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('TWIN_QUARANTINED');
      expect(await quarantined(url)).toMatchObject([{ model: 'hang', id: STUCK, code: 'MODEL_TIMEOUT' }]);
      expect(await metric(url, 'hextwin_quarantined_twins')).toBe(1);
    }
    // no second node died on the same message
    await new Promise((r) => setTimeout(r, 1_500));
    for (const [k, i] of others.entries()) {
      expect(alive(pids[k]!), `node-${i + 1} alive`).toBe(true);
      expect(await readyz(c.nodes[i]!.url)).toBe(200);
    }

    const back = await c.restartNode(victim);
    expect(await readyz(back.url)).toBe(200);
    expect(await quarantined(back.url)).toMatchObject([{ model: 'hang', id: STUCK, code: 'MODEL_TIMEOUT' }]);
    expect((await send(back.url, 'hang', STUCK, { n: 3 })).status).toBe(409);
    expect(await metric(back.url, 'hextwin_quarantined_twins')).toBe(1);

    // released on one node: released everywhere, and the twin runs again without the message that hung it
    const released = await post(back.url + '/graphql', { query: `mutation { releaseQuarantine(model: "hang", id: "${STUCK}") }` });
    expect(((await released.json()) as { data: { releaseQuarantine: boolean } }).data.releaseQuarantine).toBe(true);
    for (const n of c.nodes)
      await eventually(
        'released on every node',
        () => quarantined(n.url),
        (q) => q.length === 0,
        10_000,
      );
    expect((await send(via.url, 'hang', STUCK, { n: 4 })).status).toBe(202);
    await eventually(
      'the released twin applied',
      () => ownerTwin<{ n: number }>(via.url, 'hang', STUCK),
      (t) => t?.state.n === 1,
      20_000,
    );
    for (const n of c.nodes) expect(await metric(n.url, 'hextwin_quarantined_twins')).toBe(0);
  }, 120_000);

  it('times out an async batch that never settles and quarantines the twin cluster-wide, with no node ending', async () => {
    const pids = c.nodes.map((n) => n.pid);
    expect((await send(c.nodes[0]!.url, 'stall', 'slow', { wait: true })).status).toBe(202);
    for (const n of c.nodes) {
      const q = await eventually(
        'the stalled twin quarantined',
        () => quarantined(n.url),
        (l) => l.some((r) => r.id === 'slow'),
        20_000,
      );
      expect(q.find((r) => r.id === 'slow')).toMatchObject({ model: 'stall', code: 'MODEL_TIMEOUT', reason: expect.stringContaining('did not settle') });
      const refused = await send(n.url, 'stall', 'slow', { n: 1 });
      expect(refused.status).toBe(409);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('TWIN_QUARANTINED');
    }
    expect((await send(c.nodes[1]!.url, 'stall', 'quick', {})).status).toBe(202);
    await eventually(
      'another twin of the model applied',
      () => ownerTwin<{ n: number }>(c.nodes[1]!.url, 'stall', 'quick'),
      (t) => t?.state.n === 1,
    );
    expect(pids.every(alive)).toBe(true);
  }, 60_000);
});
