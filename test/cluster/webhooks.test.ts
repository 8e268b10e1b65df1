/**
 * Alert webhooks in a cluster: every node hears every alarm (for queries and subscriptions), but
 * each webhook gets each alarm once per cluster, posted by the node hosting the twin.
 */
import http from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type ClusterHandle } from '../kit/cluster.js';
import { fixtureEnv, range } from '../kit/fixtures.js';
import { metric } from '../kit/metrics.js';
import { postMessages } from '../kit/rest-client.js';
import { data } from '../graphql/helpers.js';

async function until(what: string, pred: () => Promise<boolean> | boolean, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const TWINS = range(12).map((i) => `boiler-${i}`);
const received: { delivery: string; twinId: string }[] = [];
const receiver = http.createServer((req, res) => {
  let text = '';
  req.on('data', (d: Buffer) => (text += d.toString()));
  req.on('end', () => {
    received.push({ delivery: String(req.headers['x-hextwin-delivery']), twinId: (JSON.parse(text) as { twinId: string }).twinId });
    res.writeHead(200).end();
  });
});
let c: ClusterHandle;

beforeAll(async () => {
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const port = (receiver.address() as { port: number }).port;
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'hextwin-cluster-hooks-')), 'webhooks.json');
  writeFileSync(file, JSON.stringify([{ name: 'pager', url: `http://127.0.0.1:${port}/alerts`, retryBaseMs: 20 }]));
  c = await startCluster({ nodes: 3, env: { ...fixtureEnv, ALERT_WEBHOOKS: file } });
}, 120_000);

afterAll(async () => {
  await c?.stop();
  receiver.close();
});

describe('Alert webhooks in a cluster', () => {
  it('posts each alarm once per cluster, from the node hosting its twin, while every node lists it', async () => {
    for (const [i, id] of TWINS.entries()) await postMessages(c.nodes[i % 3]!.url, 'probe', id, [{ op: 'alert', severity: 'CRITICAL', tag: id }]);
    await until('every node to list every alarm', async () => {
      for (const n of c.nodes) {
        const { alerts } = await data<{ alerts: { twinId: string }[] }>(n.url, '{ alerts(model: "probe") { twinId } }');
        if (alerts.length < TWINS.length) return false;
      }
      return true;
    });
    await until('every webhook queue to drain', async () => {
      for (const n of c.nodes) if ((await metric(n.url, 'hextwin_webhook_queue_depth', { webhook: 'pager' })) !== 0) return false;
      return received.length >= TWINS.length;
    });
    const delivered = await Promise.all(c.nodes.map((n) => metric(n.url, 'hextwin_webhook_deliveries_total', { webhook: 'pager', result: 'delivered' })));
    expect(received.map((r) => r.twinId).sort()).toEqual([...TWINS].sort());
    expect(new Set(received.map((r) => r.delivery)).size).toBe(TWINS.length);
    expect(delivered.reduce((a, b) => a + b, 0)).toBe(TWINS.length);
    // more than one node posted: the work follows the twins' owners
    expect(delivered.filter((d) => d > 0).length).toBeGreaterThan(1);
  });
});
