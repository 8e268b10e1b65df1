/**
 * Runs in its own process (spawned by figures/graphql.ts): the real server (engine with LMDB,
 * the GraphQL feature) with N located twins, measured through real HTTP requests and a real
 * graphql-ws subscriber. Prints one JSON object on stdout.
 *
 * The end-to-end figure starts where a device message enters the server (engine.ingest, the call
 * every connector makes once it has parsed a frame) and ends when the alert it raised arrives on a
 * graphql-ws subscriber; load generator, server and subscriber share this process.
 * CHECKPOINT_MS in the environment overrides the checkpoint interval (to see what checkpoints cost
 * the tail latency).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import WebSocket from 'ws';
import { createClient } from 'graphql-ws';
import { defineModel } from '@hextwin/shared';
import { loadConfig } from '../src/config.js';
import { startApp } from '../src/app/app.js';
import { graphqlFeature } from '../src/api/graphql/feature.js';
import type { Envelope } from '../src/engine/types.js';
import { buildTwins } from './lib/twins.js';
import { median } from './lib/measure.js';

interface Reading {
  temp?: number;
  rpm?: number;
  alertLevel?: number;
  lat?: number;
  lng?: number;
  /** performance.now() when sent: raises a CRITICAL alert carrying it */
  alarm?: number;
}

/** A turbine-like twin: the readings it gets, and a CRITICAL alert for each alarm reading. */
const benchTurbine = defineModel<{ temp: number; rpm: number; alertLevel: number; lat?: number; lng?: number }, Reading>({
  name: 'bench-turbine',
  init: () => ({ temp: 0, rpm: 0, alertLevel: 0 }),
  process(ctx, s, msgs) {
    for (const m of msgs) {
      if (m.temp !== undefined) s.temp = m.temp;
      if (m.rpm !== undefined) s.rpm = m.rpm;
      if (m.alertLevel !== undefined) s.alertLevel = m.alertLevel;
      if (m.lat !== undefined) s.lat = m.lat;
      if (m.lng !== undefined) s.lng = m.lng;
      if (m.alarm !== undefined) ctx.alert({ severity: 'CRITICAL', title: 'alarm', data: { sentAt: m.alarm } });
    }
    return 'update';
  },
  location: (s) => (s.lat !== undefined && s.lng !== undefined ? { lat: s.lat, lng: s.lng } : undefined),
  stateSchema: { type: 'object', properties: { temp: { type: 'number' }, rpm: { type: 'number' }, alertLevel: { type: 'integer', minimum: 0, maximum: 20 } } },
});

const n = Number(process.argv[2] ?? 1_000_000);
const quick = process.argv[3] === 'quick';
const MODEL = benchTurbine.name;
const id = (i: number) => 'tw' + String(i).padStart(7, '0');

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

const note = (t: string) => process.stderr.write(`  graphql: ${t}\n`);

async function main() {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'hextwin-bench-gql-'));
  const config = {
    ...loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      MAX_QUEUED: '2000000',
      AUTH_ANONYMOUS: '1',
      ...(process.env.CHECKPOINT_MS ? { CHECKPOINT_MS: process.env.CHECKPOINT_MS } : {}),
    }),
  };
  const app = await startApp(config, { models: [benchTurbine], logger: pino({ level: 'warn' }), features: [graphqlFeature] });
  const engine = app.engine;
  const out: Record<string, number> = {};
  try {
    // ---- load N located twins (the floors' placement: around 1,100 US cities)
    note(`loading ${n} twins`);
    const twins = [...buildTwins(n).values()];
    for (let i = 0; i < twins.length; i += 1_000) {
      const batch: Envelope[] = twins
        .slice(i, i + 1_000)
        .map((t) => ({ model: MODEL, id: t.id, message: { temp: t.temp, rpm: t.rpm, alertLevel: t.alertLevel, lat: t.lat, lng: t.lng } }));
      await engine.whenAccepting();
      await engine.ingest(batch);
    }
    await engine.idle();
    while (engine.twinCount(MODEL) < n) await new Promise((r) => setTimeout(r, 50));

    const post = async (query: string, variables?: Record<string, unknown>) => {
      const r = await fetch(app.url + '/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await r.json()) as { errors?: unknown[]; data?: Record<string, any> };
      if (body.errors) throw new Error(JSON.stringify(body.errors));
      return body.data!;
    };
    const timed = async (runs: number, fn: (i: number) => Promise<unknown>) => {
      await fn(-1);
      const ms: number[] = [];
      for (let i = 0; i < runs; i++) {
        const t0 = performance.now();
        await fn(i);
        ms.push(performance.now() - t0);
      }
      return ms;
    };

    // ---- twin by id
    note('twin by id');
    const byId = await timed(quick ? 300 : 1_000, (i) =>
      post('query($id: ID!) { twin(model: "bench-turbine", id: $id) { id state lat lng updatedAt } }', { id: id(Math.abs(i * 7919) % n) }),
    );
    out.twinByIdP50 = median(byId);
    out.twinByIdP99 = quantile(byId, 0.99);

    // ---- filtered twins, first 1,000
    note('filtered twins');
    let total = 0;
    const filtered = await timed(quick ? 7 : 9, async () => {
      const d = await post(
        '{ twins(model: "bench-turbine", where: {and: [{field: "temp", op: GT, value: 95}, {field: "alertLevel", op: GTE, value: 5}]}, first: 1000) { totalCount edges { node { id state } } } }',
      );
      total = d.twins.totalCount;
    });
    out.filteredTwinsMs = median(filtered);
    out.filteredTwinsMatches = total;

    // ---- hexAggregate at resolution 5 (the first call computes and caches every twin's cell)
    note('hexAggregate');
    let t0 = performance.now();
    const first = await post(
      '{ hexAggregate(model: "bench-turbine", resolution: 5, metrics: [{field: "temp", op: AVG}, {field: "temp", op: MAX}]) { cell count values } }',
    );
    out.hexAggregateColdMs = performance.now() - t0;
    out.hexCells = first.hexAggregate.length;
    const hex = await timed(quick ? 7 : 9, () =>
      post('{ hexAggregate(model: "bench-turbine", resolution: 5, metrics: [{field: "temp", op: AVG}, {field: "temp", op: MAX}]) { cell count values } }'),
    );
    out.hexAggregateMs = median(hex);

    // ---- sustainable ingest rate (engine, durable, batches of 100)
    note('sustainable ingest rate');
    const total2 = quick ? 300_000 : 1_000_000;
    t0 = performance.now();
    const inflight: Promise<void>[] = [];
    for (let k = 0; k < total2; k += 100) {
      const batch: Envelope[] = [];
      for (let j = 0; j < 100; j++) batch.push({ model: MODEL, id: id((k + j * 9973) % n), message: { temp: 60 + (j % 40), rpm: 80 } });
      if (engine.overloaded) await engine.whenAccepting();
      inflight.push(engine.ingest(batch));
      if (inflight.length >= 200) await Promise.all(inflight.splice(0));
    }
    await Promise.all(inflight);
    await engine.idle();
    out.sustainableRate = total2 / ((performance.now() - t0) / 1000);

    // ---- device message -> alert on a graphql-ws subscriber
    const client = createClient({ url: app.url.replace('http', 'ws') + '/graphql', webSocketImpl: WebSocket, retryAttempts: 0 });
    const latencies: number[] = [];
    let recording = false;
    const unsubscribe = client.subscribe<{ alerts: { data: { sentAt: number } } }>(
      { query: 'subscription { alerts(model: "bench-turbine", minSeverity: CRITICAL) { data } }' },
      {
        next: (r) => {
          if (recording && r.data) latencies.push(performance.now() - r.data.alerts.data.sentAt);
        },
        error: (e) => note(`subscription failed: ${JSON.stringify(e)}`),
        complete: () => {},
      },
    );
    await new Promise((r) => setTimeout(r, 300));
    const ALERTS_PER_S = 500;
    const run = async (rate: number, seconds: number) => {
      latencies.length = 0;
      recording = true;
      const every = Math.max(1, Math.round(rate / ALERTS_PER_S));
      const start = performance.now();
      let sent = 0;
      while (performance.now() - start < seconds * 1000) {
        const due = Math.floor(((performance.now() - start) / 1000) * rate) - sent;
        if (due > 0) {
          const batch: Envelope[] = [];
          const now = performance.now();
          for (let j = 0; j < due; j++, sent++) {
            const msg: Reading = { temp: 70, rpm: 80 };
            if (sent % every === 0) msg.alarm = now;
            batch.push({ model: MODEL, id: id((sent * 7919) % n), message: msg as Record<string, number> });
          }
          for (let i = 0; i < batch.length; i += 1_000) void engine.ingest(batch.slice(i, i + 1_000)).catch(() => {});
        }
        await new Promise((r) => setTimeout(r, 1));
      }
      await engine.idle();
      await new Promise((r) => setTimeout(r, 200));
      recording = false;
      return {
        p50: quantile(latencies, 0.5),
        p99: quantile(latencies, 0.99),
        p999: quantile(latencies, 0.999),
        samples: latencies.length,
        achieved: sent / seconds,
      };
    };
    const secs = quick ? 3 : 10;
    note('end-to-end at 10,000 msgs/s');
    const at10k = await run(10_000, secs);
    const half = Math.round(out.sustainableRate / 2);
    note(`end-to-end at half the sustainable rate (${half} msgs/s)`);
    const atHalf = await run(half, secs);
    unsubscribe();
    await client.dispose();
    Object.assign(out, {
      e2e10kP50: at10k.p50,
      e2e10kP99: at10k.p99,
      e2e10kP999: at10k.p999,
      e2e10kSamples: at10k.samples,
      halfRate: half,
      halfAchieved: atHalf.achieved,
      e2eHalfP50: atHalf.p50,
      e2eHalfP99: atHalf.p99,
      e2eHalfP999: atHalf.p999,
      e2eHalfSamples: atHalf.samples,
    });
  } finally {
    await app.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`graphql worker failed: ${(e as Error).stack ?? e}\n`);
    process.exit(1);
  },
);
