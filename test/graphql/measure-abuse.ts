/**
 * Figures for docs/SECURITY.md: the longest main-thread task and the time of abusive GraphQL
 * workloads over one model of N twins, run in-process on the index the API uses, the old way (one
 * synchronous pass, as before the limits) and the new way (sliced scans, group cap, cell dispatch).
 *
 *   (cd server && node --expose-gc --import tsx ../test/graphql/measure-abuse.ts) [twins=1000000]
 *
 * The longest task is the largest gap seen by a setImmediate probe running beside the work (GC
 * pauses included: h3-js allocates a string per cell computed).
 */
import { latLngToCell } from 'h3-js';
import type { TwinView } from '../../server/src/engine/types.js';
import { ModelIndex } from '../../server/src/index/model-index.js';
import { aggregate, aggregateSliced, hexAggregate, hexAggregateSliced } from '../../server/src/index/aggregate.js';
import { findTwins, findTwinsSliced } from '../../server/src/index/find.js';
import { compileFilter } from '../../server/src/index/filter.js';
import { TwinChangeFeed } from '../../server/src/index/live-twins.js';
import { cellCover } from '../../server/src/index/dispatch.js';

const N = Number(process.argv[2] ?? 1_000_000);

function build(): { index: ModelIndex; twins: TwinView[] } {
  const index = new ModelIndex('m', 1024);
  const twins: TwinView[] = [];
  for (let i = 0; i < N; i++) {
    const lat = 35 + (i % 1000) * 0.02;
    const lng = -10 + Math.floor(i / 1000) * 0.03;
    const t = {
      model: 'm',
      id: 't' + i,
      state: { v: i % 97, kind: 'k' + (i % 7) },
      lat,
      lng,
      version: 1,
      createdAt: 0,
      updatedAt: 0,
      lastError: null,
    } as TwinView;
    twins.push(t);
    index.upsert(t);
  }
  return { index, twins };
}

/** Run `work` and report its wall time and the longest gap between turns of the event loop meanwhile. */
async function longest(label: string, work: () => unknown | Promise<unknown>): Promise<void> {
  (globalThis as { gc?: () => void }).gc?.();
  let last = performance.now();
  const gaps: number[] = [];
  let running = true;
  const probe = () => {
    const now = performance.now();
    gaps.push(now - last);
    last = now;
    if (running) setImmediate(probe);
  };
  setImmediate(probe);
  await new Promise((r) => setImmediate(r));
  const heap0 = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  let outcome = 'ok';
  try {
    await work();
  } catch (e) {
    outcome = (e as { code?: string }).code ?? String(e);
  }
  const ms = performance.now() - t0;
  const heapMb = (process.memoryUsage().heapUsed - heap0) / 2 ** 20;
  // let the probe see the gap that ended with the work
  await new Promise((r) => setImmediate(r));
  running = false;
  gaps.sort((a, b) => a - b);
  const max = gaps[gaps.length - 1] ?? 0;
  const p99 = gaps[Math.floor(gaps.length * 0.99)] ?? max;
  console.log(
    `${label.padEnd(62)} ${ms.toFixed(0).padStart(6)} ms   longest task ${max.toFixed(1).padStart(7)} ms (p99 ${p99.toFixed(1)})   heap +${heapMb.toFixed(0)} MB   ${outcome}`,
  );
}

async function main(): Promise<void> {
  console.log(`${N} twins, node ${process.version}`);
  const { index, twins } = build();
  const orderBy = [{ field: 'v', direction: 'DESC' as const }];

  await longest('twins(first: 1000, orderBy: v DESC), one pass', () => findTwins(index, { first: 1000, orderBy }));
  await longest('twins(first: 1000, orderBy: v DESC), sliced', () => findTwinsSliced(index, { first: 1000, orderBy }));

  await longest('first hexAggregate at resolution 7, one pass', () => hexAggregate(index, { resolution: 7 }));
  await longest('first hexAggregate at resolution 8, sliced', () => hexAggregateSliced(index, { resolution: 8 }));

  await longest('aggregate(groupBy: "$id"), one pass, no cap', () => aggregate(index, { groupBy: '$id' }));
  await longest('aggregate(groupBy: "$id"), sliced, cap 10,000', () => aggregateSliced(index, { groupBy: '$id', maxGroups: 10_000 }));

  // 1,000 twinChanges subscriptions on cells far from the changes; 100,000 changes
  const far = { within: { cells: [latLngToCell(-33.9, 151.2, 5)] } };
  const subscribe = (cover: boolean) =>
    Array.from({ length: 1_000 }, () => new TwinChangeFeed(index, compileFilter(far, index), 100, undefined, cover ? cellCover(far) : undefined));
  const changes = () => {
    for (let i = 0; i < 100_000; i++) {
      const t = twins[(i * 7919) % N]!;
      (t as { version: number }).version++;
      index.upsert(t);
    }
  };
  await longest('100k changes, no subscribers', changes);
  for (const cover of [false, true]) {
    const feeds = subscribe(cover);
    const before = index.notifications;
    await longest(`100k changes, 1k location-filtered subscribers, ${cover ? 'by cell' : 'by model'}`, changes);
    console.log(`${''.padEnd(62)} subscriber calls: ${index.notifications - before}`);
    for (const f of feeds) f.close();
  }
}

void main();
