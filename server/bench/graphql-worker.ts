/**
 * Runs in its own process (spawned by figures/graphql.ts): the real server (engine with LMDB,
 * the GraphQL feature) with N located twins, measured through real HTTP requests and a real
 * graphql-ws subscriber. Prints one JSON object on stdout.
 *
 * The end-to-end figure starts at the time a device message is due to enter the server
 * (engine.ingest, the call every connector makes once it has parsed a frame; see `run` below for
 * why the due time) and ends when the alert it raised arrives on a graphql-ws subscriber; load
 * generator, server and subscriber share this process, so the longest task it reports (the
 * server's /metrics gauge) is this process's event loop. Each window has at least one checkpoint
 * in it. CHECKPOINT_MS in the environment overrides the checkpoint interval (default: the
 * server's 2,000 ms; 1,000 ms in quick runs, whose windows are 3 s).
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
import { Engine } from '../src/engine/engine.js';
import type { Envelope } from '../src/engine/types.js';
import { buildTwins } from './lib/twins.js';
import { median } from './lib/measure.js';
import { longestTask } from './lib/scrape.js';

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
  // stopped by the bench (its figure failed, or SIGINT): leave no data directory behind
  process.once('SIGTERM', () => {
    rmSync(dataDir, { recursive: true, force: true });
    process.exit(143);
  });
  const config = {
    ...loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      MAX_QUEUED: '2000000',
      AUTH_ANONYMOUS: '1',
      // the server's default interval; quick windows are shorter, so checkpoints come oftener there
      CHECKPOINT_MS: process.env.CHECKPOINT_MS ?? (quick ? '1000' : '2000'),
    }),
  };
  const app = await startApp(config, { models: [benchTurbine], logger: pino({ level: 'warn' }), features: [graphqlFeature] });
  if (!(app.engine instanceof Engine)) throw new Error('the graphql figure measures the embedded engine');
  const engine = app.engine;
  const out: Record<string, number> = { checkpointMs: config.checkpointMs };
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
    const checkpointsSoFar = async () => {
      const { values } = await engine.metrics.checkpointSeconds.get();
      const v = (suffix: string) => values.find((x) => x.metricName === `hextwin_checkpoint_seconds_${suffix}`)?.value ?? 0;
      return { count: v('count'), seconds: v('sum') };
    };
    /**
     * `rate` messages a second for `seconds`, one in `rate / 500` raising an alert. Each message
     * carries the time it was *due* (start + k / rate), not the time the generator got round to it:
     * when the event loop is held up the messages due meanwhile go late, and that wait is part of
     * their latency (no coordinated omission). Every earlier change is checkpointed first, so the
     * checkpoints in the window are this load's own; if the timer has put none in the first half,
     * one is started there, so that every window has one.
     */
    const run = async (rate: number, seconds: number) => {
      await engine.checkpoint();
      const cp0 = await checkpointsSoFar();
      await longestTask(app.url);
      latencies.length = 0;
      recording = true;
      const every = Math.max(1, Math.round(rate / ALERTS_PER_S));
      const total = Math.round(rate * seconds);
      let alarms = 0;
      let refusedAlarms = 0;
      let refused = 0;
      let halfway = false;
      let forced: Promise<void> | undefined;
      const start = performance.now();
      let sent = 0;
      while (sent < total) {
        const now = performance.now();
        const due = Math.min(total, Math.floor(((now - start) / 1000) * rate)) - sent;
        if (due > 0) {
          const batch: Envelope[] = [];
          let batchAlarms = 0;
          for (let j = 0; j < due; j++, sent++) {
            const msg: Reading = { temp: 70, rpm: 80 };
            if (sent % every === 0) {
              msg.alarm = start + (sent * 1000) / rate;
              batchAlarms++;
            }
            batch.push({ model: MODEL, id: id((sent * 7919) % n), message: msg as Record<string, number> });
          }
          alarms += batchAlarms;
          for (let i = 0; i < batch.length; i += 1_000) {
            const slice = batch.slice(i, i + 1_000);
            const sliceAlarms = slice.reduce((k, e) => k + ((e.message as Reading).alarm !== undefined ? 1 : 0), 0);
            void engine.ingest(slice).catch(() => {
              refused += slice.length;
              refusedAlarms += sliceAlarms;
            });
          }
        }
        if (!halfway && now - start > (seconds * 1000) / 2) {
          halfway = true;
          if ((await checkpointsSoFar()).count === cp0.count) forced = engine.checkpoint();
        }
        await new Promise((r) => setTimeout(r, 1));
      }
      const achieved = sent / ((performance.now() - start) / 1000);
      await engine.idle();
      await new Promise((r) => setTimeout(r, 200));
      recording = false;
      const longest = await longestTask(app.url);
      // the one the bench started ran in the window, even when it ends after it: count it
      await forced;
      const cp1 = await checkpointsSoFar();
      return {
        p50: quantile(latencies, 0.5),
        p99: quantile(latencies, 0.99),
        p999: quantile(latencies, 0.999),
        samples: latencies.length,
        alarms,
        refusedAlarms,
        refused,
        lost: alarms - refusedAlarms - latencies.length,
        achieved,
        forced: forced ? 1 : 0,
        // checkpoints counted: those finished by the end of the window, and the bench's own
        checkpoints: cp1.count - cp0.count,
        checkpointMs: cp1.count > cp0.count ? ((cp1.seconds - cp0.seconds) * 1000) / (cp1.count - cp0.count) : 0,
        longestTaskMs: longest * 1000,
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
    out.halfRate = half;
    for (const [k, v] of Object.entries(at10k)) out[`e2e10k.${k}`] = v;
    for (const [k, v] of Object.entries(atHalf)) out[`e2eHalf.${k}`] = v;
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
