/**
 * Cluster figures (issue 7), on one 2-core machine — read them as such: the nats-server, every
 * hextwin node and the load client share the same two cores, so adding nodes adds contention, not
 * capacity. What they show is the cost of cluster mode and whether it degrades gracefully.
 *
 * - cluster.overhead: the same load through the embedded engine and through a one-node cluster,
 *   in one process without HTTP (cluster-worker.ts); the difference per message is what the
 *   JetStream log, the owner's consumer, checkpoints in JetStream and the event fan-out add.
 * - cluster.embedded-http-ingest: the REST load below on one embedded server, for comparison.
 * - cluster.ingest-Nnodes: REST bulk ingest (batches of 100, 64 connections in all) spread over N
 *   real node processes, accepted (stored in JetStream) and applied rates, against the HTTP
 *   POST-100 floor. JetStream stores ~20k messages/s here and each holds one partition's envelopes
 *   from all requests in flight, so the rate grows with concurrency: a single sequential client
 *   gets a small fraction of it (see docs/CLUSTER.md).
 * - cluster.takeover: a node killed with SIGKILL under load; time until every partition's owner
 *   answers again. A dead process is noticed by probes (its subject has no responder once its
 *   connection is gone) before the default node TTL (3 s), which covers hung nodes.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { partition, PARTITIONS } from '@hextwin/shared';
import type { Bench } from '../bench.js';
import { Floor } from '../floors.js';
import { httpPost, rawHttpRate } from '../lib/raw-clients.js';
import { counterSum, natsServerInstalled, startNatsServer, startNode, type Proc } from '../lib/cluster-procs.js';
import { cpuDuring, microsPer } from '../lib/proc-cpu.js';
import { runWorker as run } from '../lib/worker.js';

const modelsDir = fileURLToPath(new URL('../cluster-models', import.meta.url));
const TWINS = 50_000;
const CONNECTIONS = 64;

function runWorker(natsUrl: string, messages: number) {
  return run<{ embeddedAccepted: number; embeddedApplied: number; clusterAccepted: number; clusterApplied: number }>(
    new URL('../cluster-worker.ts', import.meta.url),
    [natsUrl, String(messages), String(TWINS)],
  );
}

/** Pre-built REST bulk POSTs of 100 envelopes each. */
function requestsFor(port: number, count: number, seed: number): Buffer[] {
  const out: Buffer[] = [];
  let k = seed * 1_000_003;
  for (let r = 0; r < count; r++) {
    const batch = [];
    for (let j = 0; j < 100; j++, k++) batch.push({ model: 'meter', id: `m${(k * 7919) % TWINS}`, message: { v: k % 1000, t: k } });
    out.push(httpPost(port, '/api/v1/messages', JSON.stringify(batch)));
  }
  return out;
}

/**
 * A round as `ingestRound`, with the CPU time every node and the nats-server spent on it (from
 * /proc, until everything accepted was applied), per applied message.
 */
async function measuredRound(
  nodes: Proc[],
  nats: Proc | null,
  ms: number,
): Promise<{ accepted: number; applied: number; cpuUsPerMsg: number; messages: number }> {
  const pids = [...nodes, ...(nats ? [nats] : [])].map((p) => p.child.pid!);
  const base = await counterSum(
    nodes.map((n) => n.url),
    'hextwin_messages_applied_total',
  );
  const { result, cpu } = await cpuDuring(pids, () => ingestRound(nodes, ms));
  const messages =
    (await counterSum(
      nodes.map((n) => n.url),
      'hextwin_messages_applied_total',
    )) - base;
  return {
    ...result,
    messages,
    cpuUsPerMsg: microsPer(
      cpu.reduce((a, b) => a + b, 0),
      messages,
    ),
  };
}

/** Resident memory of each node, from /proc/PID/status (bytes). */
function rssOf(nodes: Proc[]): number[] {
  return nodes.map((n) => {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${n.child.pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : NaN;
  });
}

/** Accepted msgs/s over `ms` through every node at once, then the applied rate once all are applied. */
async function ingestRound(nodes: Proc[], ms: number): Promise<{ accepted: number; applied: number }> {
  const urls = nodes.map((n) => n.url);
  const base = await counterSum(urls, 'hextwin_messages_applied_total');
  const t0 = performance.now();
  // 64 connections in all, split over the nodes: a partition's envelopes from many requests share
  // one JetStream message, so what a cluster accepts grows with the requests in flight
  const rates = await Promise.all(nodes.map((n, i) => rawHttpRate(n.port, requestsFor(n.port, 200, i), Math.ceil(CONNECTIONS / nodes.length), ms)));
  const accepted = rates.reduce((a, b) => a + b, 0) * 100;
  const total = (accepted * ms) / 1000;
  // applied: wait (bounded) until the owners have applied what was accepted
  const deadline = Date.now() + 60_000;
  let applied = 0;
  while (Date.now() < deadline) {
    applied = (await counterSum(urls, 'hextwin_messages_applied_total')) - base;
    if (applied >= total * 0.999) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return { accepted, applied: applied / ((performance.now() - t0) / 1000) };
}

/** One twin id per partition, so that probing them all shows every partition served. */
function probeIds(): string[] {
  const ids: string[] = new Array(PARTITIONS);
  let found = 0;
  for (let i = 0; found < PARTITIONS; i++) {
    const id = `probe${i}`;
    const p = partition('meter', id);
    if (ids[p] === undefined) {
      ids[p] = id;
      found++;
    }
  }
  return ids;
}

async function allServed(url: string, ids: string[]): Promise<boolean> {
  const codes = await Promise.all(
    ids.map((id) =>
      fetch(`${url}/api/v1/cluster/twins/meter/${id}`).then(
        (r) => (void r.arrayBuffer(), r.status),
        () => 0,
      ),
    ),
  );
  return codes.every((c) => c === 200);
}

async function waitBalanced(node: Proc, members: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  const cap = Math.ceil(PARTITIONS / members);
  while (Date.now() < deadline) {
    const st = (await (await fetch(node.url + '/api/v1/cluster')).json()) as { partitions: string[] };
    const counts = new Map<string, number>();
    for (const o of st.partitions) if (o) counts.set(o, (counts.get(o) ?? 0) + 1);
    if (counts.size === members && [...counts.values()].every((n) => n >= cap - 3 && n <= cap)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`partitions did not settle over ${members} nodes within ${ms} ms`);
}

export default {
  name: 'cluster',
  floors: [Floor.httpBatch100],
  async run(b: Bench) {
    if (!natsServerInstalled()) {
      b.progress('cluster: nats-server is not installed; skipping the cluster figures');
      return;
    }
    const quick = b.quick;
    const label = '2-core machine: NATS, nodes and load client share it';
    const nats = await startNatsServer();
    const nodes: Proc[] = [];
    try {
      // ---- per-message overhead against the embedded runtime
      const messages = quick ? 100_000 : 500_000;
      b.progress(`cluster: embedded vs one-node cluster, ${messages} messages in-process`);
      const w = await runWorker(nats.url, messages);
      b.report({
        name: 'cluster.inproc-1node-applied',
        value: w.clusterApplied,
        unit: `msgs/s (in-process, no HTTP, ${quick ? '100k msgs' : '500k msgs'})`,
        goal: 'within a small factor of the embedded runtime',
      });
      b.report({ name: 'cluster.embedded-applied', value: w.embeddedApplied, unit: `msgs/s (same load, embedded LMDB)` });
      b.report({
        name: 'cluster.overhead-per-message',
        value: 1e6 / w.clusterApplied - 1e6 / w.embeddedApplied,
        unit: 'µs/msg added by cluster mode',
        goal: 'small against the 2-20 µs of a message through HTTP or WebSocket',
      });
      b.report({
        name: 'cluster.slowdown-vs-embedded',
        value: w.embeddedApplied / w.clusterApplied,
        unit: 'x (embedded rate / one-node cluster rate)',
        goal: '<= 5',
      });

      // ---- the same REST load on one embedded server (no NATS), for comparison
      const ms = quick ? 2_000 : 8_000;
      b.progress('cluster: an embedded server under the same REST load');
      const embedded = await startNode({ nodeId: 'bench-embedded', modelsDir });
      try {
        await ingestRound([embedded], quick ? 500 : 2_000);
        const r = await measuredRound([embedded], null, ms);
        b.report({
          name: 'cluster.embedded-http-ingest',
          value: r.accepted,
          unit: `msgs/s accepted by one embedded server, same load (${label})`,
          floor: Floor.httpBatch100,
        });
        b.report({
          name: 'cluster.embedded-cpu-per-message',
          value: r.cpuUsPerMsg,
          unit: `CPU µs per applied message, embedded server process, same REST load (${r.messages} msgs)`,
        });
      } finally {
        await embedded.kill('SIGTERM');
      }

      // ---- HTTP ingest over 1, 2, 3 nodes
      let rssBaseline = NaN;
      for (let n = 1; n <= 3; n++) {
        b.progress(`cluster: starting node ${n}`);
        nodes.push(await startNode({ natsUrl: nats.url, nodeId: `bench-${n}`, modelsDir }));
        if (n === 1) rssBaseline = (rssOf(nodes))[0]!;
        await waitBalanced(nodes[0]!, n, 30_000);
        await ingestRound(nodes, quick ? 500 : 2_000); // warm-up: creates the twins
        const r = await measuredRound(nodes, nats, ms);
        const plural = n > 1 ? 's' : '';
        b.report({
          name: `cluster.cpu-per-message-${n}node${plural}`,
          value: r.cpuUsPerMsg,
          unit: `CPU µs per applied message, all ${n} node${plural} + nats-server summed (${r.messages} msgs)`,
          floor: n === 1 ? 'cluster.embedded-cpu-per-message' : 'cluster.cpu-per-message-1node',
          goal: n === 1 ? 'ratio to embedded: lower is better' : 'ratio <= 1.25 (total cost flat as nodes are added)',
        });
        const rss = rssOf(nodes);
        const perTwin = (rss.reduce((a, b) => a + b, 0) / rss.length - rssBaseline) / TWINS;
        b.report({
          name: `cluster.memory-per-twin-per-node-${n}node${plural}`,
          value: perTwin,
          unit: `bytes/twin: mean node RSS above a fresh node's, over ${TWINS} twins`,
          ...(n > 1 ? { floor: 'cluster.memory-per-twin-per-node-1node', goal: `ratio ≈ ${(1 / n).toFixed(2)} (each node holds its share)` } : {}),
        });
        b.report({
          name: `cluster.ingest-${n}node${n > 1 ? 's' : ''}`,
          value: r.accepted,
          unit: `msgs/s accepted, HTTP batches of 100, ${CONNECTIONS} connections (${label})`,
          floor: Floor.httpBatch100,
        });
        b.report({ name: `cluster.applied-${n}node${n > 1 ? 's' : ''}`, value: r.applied, unit: `msgs/s applied (${label})`, floor: Floor.httpBatch100 });
        if (n === 1)
          b.report({
            name: 'cluster.1node-vs-embedded',
            value: r.applied,
            unit: 'msgs/s applied by a one-node cluster, against one embedded server under the same REST load',
            floor: 'cluster.embedded-http-ingest',
            goal: 'ratio >= 0.5',
          });
      }

      // ---- takeover: kill one node under a steady load, until every partition answers again
      const probes = probeIds();
      await Promise.all(
        probes.map((id) =>
          fetch(`${nodes[0]!.url}/api/v1/messages`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify([{ model: 'meter', id, message: { v: 1, t: 1 } }]),
          }).then((r) => r.arrayBuffer()),
        ),
      );
      while (!(await allServed(nodes[0]!.url, probes))) await new Promise((r) => setTimeout(r, 50));
      let loading = true;
      const load = (async () => {
        const reqs = requestsFor(0, 50, 7).map((buf) => buf.subarray(buf.indexOf('\r\n\r\n') + 4).toString());
        for (let i = 0; loading; i++) {
          for (const n of [nodes[0]!, nodes[2]!])
            await fetch(`${n.url}/api/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: reqs[i % reqs.length] }).then(
              (r) => r.arrayBuffer(),
              () => undefined,
            );
          await new Promise((r) => setTimeout(r, 20));
        }
      })();
      b.progress('cluster: killing one of three nodes under load');
      const killedAt = performance.now();
      await nodes[1]!.kill('SIGKILL');
      const deadline = Date.now() + 30_000;
      while (!(await allServed(nodes[0]!.url, probes))) {
        if (Date.now() > deadline) throw new Error('partitions of the killed node were not taken over within 30 s');
        await new Promise((r) => setTimeout(r, 25));
      }
      const takeoverMs = performance.now() - killedAt;
      loading = false;
      await load;
      b.report({
        name: 'cluster.takeover',
        value: takeoverMs,
        unit: 'ms from SIGKILL until every partition answers (death seen by probes; TTL 3 s)',
        goal: '<= 5000 ms',
      });
    } finally {
      for (const n of nodes) await n.kill('SIGTERM').catch(() => undefined);
      await nats.kill('SIGTERM');
    }
  },
};
