/**
 * Runs in its own process (spawned by figures/cluster.ts): the same load — batches of 100
 * messages for a small model, 256 batches in flight — through the embedded engine (LMDB, durable)
 * and through a one-node cluster (JetStream log and checkpoints, on the nats-server whose URL is
 * argv[2]), both in this process and without HTTP, so the difference is what cluster mode adds per
 * message. Prints one JSON object on stdout.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { Registry } from 'prom-client';
import { Engine } from '../src/engine/engine.js';
import { RealClock } from '../src/engine/clock.js';
import { LmdbStore } from '../src/store/lmdb-store.js';
import { ClusterNode } from '../src/cluster/cluster-node.js';
import type { EngineApi, Envelope } from '../src/engine/types.js';
import { meter } from './cluster-models/meter.js';

const natsUrl = process.argv[2]!;
const messages = Number(process.argv[3] ?? 200_000);
const twins = Number(process.argv[4] ?? 10_000);
const progress = (s: string) => process.stderr.write(`  cluster: ${s}\n`);
const logger = pino({ level: 'silent' });

function batches(): Envelope[][] {
  const out: Envelope[][] = [];
  let k = 0;
  for (let i = 0; i < messages; i += 100) {
    const b: Envelope[] = [];
    for (let j = 0; j < 100; j++, k++) b.push({ model: 'meter', id: `m${(k * 7919) % twins}`, message: { v: k, t: k } });
    out.push(b);
  }
  return out;
}

/** Accepted rate (until every ingest resolved) and applied rate (until `applied()` reaches the count). */
async function drive(engine: EngineApi, applied: () => Promise<number>): Promise<{ accepted: number; applied: number }> {
  const list = batches();
  const base = await applied();
  const t0 = performance.now();
  let next = 0;
  const lane = async () => {
    while (next < list.length) {
      const b = list[next++]!;
      await engine.whenAccepting();
      await engine.ingest(b);
    }
  };
  await Promise.all(Array.from({ length: 256 }, lane));
  const t1 = performance.now();
  while ((await applied()) - base < messages) await new Promise((r) => setTimeout(r, 5));
  const t2 = performance.now();
  return { accepted: messages / ((t1 - t0) / 1000), applied: messages / ((t2 - t0) / 1000) };
}

const appliedFrom = (registry: Registry) => async () => {
  const m = registry.getSingleMetric('hextwin_messages_applied_total');
  const { values } = await m!.get();
  return values.reduce((n, v) => n + v.value, 0);
};

const dir = mkdtempSync(path.join(tmpdir(), 'hextwin-bench-cluster-'));
// stopped by the bench (its figure failed, or SIGINT): leave no data directory behind
process.once('SIGTERM', () => {
  rmSync(dir, { recursive: true, force: true });
  process.exit(143);
});
try {
  progress(`embedded engine (LMDB): ${messages} messages over ${twins} twins`);
  const r1 = new Registry();
  const embedded = new Engine({
    store: new LmdbStore(dir),
    clock: new RealClock(),
    models: [meter],
    logger,
    registry: r1,
    checkpointMs: 2_000,
    maxQueued: 2_000_000,
  });
  await embedded.start();
  await drive(embedded, appliedFrom(r1)); // warm-up: creates the twins
  const e = await drive(embedded, appliedFrom(r1));
  await embedded.stop();

  progress('one-node cluster (JetStream)');
  const r2 = new Registry();
  const node = new ClusterNode({ natsUrl, nodeId: 'bench-inproc', models: [meter], logger, registry: r2, maxQueued: 2_000_000, prefix: 'benchinproc' });
  await node.start();
  await drive(node, appliedFrom(r2));
  const c = await drive(node, appliedFrom(r2));
  await node.stop();
  process.stdout.write(
    JSON.stringify({ embeddedAccepted: e.accepted, embeddedApplied: e.applied, clusterAccepted: c.accepted, clusterApplied: c.applied }) + '\n',
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
