/**
 * GraphQL figures (issue 4), with N located twins loaded (1M; 100k in --quick), in a worker
 * process of their own: twin-by-id latency, filtered `twins` (first 1,000), `hexAggregate` at
 * resolution 5, and the end-to-end latency from a device message entering the server to its alert
 * arriving on a graphql-ws subscriber, at 10,000 msgs/s and at half the sustainable ingest rate.
 */
import type { Bench, Figure } from '../bench.js';
import { Floor } from '../floors.js';
import { short } from '../lib/measure.js';
import { runWorker as run } from '../lib/worker.js';

type Results = Record<string, number>;

const runWorker = (twins: number, quick: boolean) => run<Results>(new URL('../graphql-worker.ts', import.meta.url), [String(twins), quick ? 'quick' : 'full']);

const figure: Figure = {
  name: 'graphql',
  async run(b: Bench) {
    const n = b.quick ? 100_000 : 1_000_000;
    const tw = short(n);
    b.progress(`graphql: ${tw} twins in a worker process`);
    const r = await runWorker(n, b.quick);
    const ms = (what: string) => `ms (${what}, ${tw} twins)`;
    b.report({ name: 'graphql.twin-by-id.p50', value: r.twinByIdP50!, unit: ms('HTTP round trip'), goal: 'a few ms' });
    b.report({ name: 'graphql.twin-by-id.p99', value: r.twinByIdP99!, unit: ms('HTTP round trip') });
    b.report({
      name: 'graphql.twins-filtered-first-1000',
      value: r.filteredTwinsMs!,
      unit: ms(`${r.filteredTwinsMatches!.toLocaleString('en-US')} matches, HTTP`),
      floor: Floor.filterScan,
    });
    b.report({
      name: 'graphql.hex-aggregate-res5',
      value: r.hexAggregateMs!,
      unit: ms(`${r.hexCells!.toLocaleString('en-US')} cells, AVG+MAX, HTTP`),
      floor: Floor.h3GroupRes5,
      goal: '<= 100 ms',
    });
    b.report({ name: 'graphql.hex-aggregate-res5.first-call', value: r.hexAggregateColdMs!, unit: ms('computes every twin cell once') });
    b.report({
      name: 'graphql.sustainable-ingest',
      value: r.sustainableRate!,
      unit: `msgs/s (engine.ingest, batches of 100, durable, ${tw} twins)`,
      floor: Floor.parseLookupUpdateBatch100,
    });
    b.report({ name: 'graphql.alert-e2e-10k.p50', value: r.e2e10kP50!, unit: `ms (message in -> alert on graphql-ws, 10k msgs/s, ${r.e2e10kSamples} alerts)` });
    b.report({ name: 'graphql.alert-e2e-10k.p99', value: r.e2e10kP99!, unit: 'ms (10k msgs/s)', goal: '<= 3 ms' });
    b.report({ name: 'graphql.alert-e2e-10k.p999', value: r.e2e10kP999!, unit: 'ms (10k msgs/s)' });
    const half = `${Math.round(r.halfRate!).toLocaleString('en-US')} msgs/s`;
    b.report({ name: 'graphql.alert-e2e-half.p50', value: r.e2eHalfP50!, unit: `ms (half the sustainable rate: ${half}, ${r.e2eHalfSamples} alerts)` });
    b.report({ name: 'graphql.alert-e2e-half.p99', value: r.e2eHalfP99!, unit: `ms (${half})` });
    b.report({ name: 'graphql.alert-e2e-half.p999', value: r.e2eHalfP999!, unit: `ms (${half})` });
  },
};

export default figure;
