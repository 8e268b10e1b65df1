/**
 * GraphQL figures (issue 4), with N located twins loaded (1M; 100k in --quick), in a worker
 * process of their own: twin-by-id latency, filtered `twins` (first 1,000), `hexAggregate` at
 * resolution 5, and the end-to-end latency from a device message entering the server to its alert
 * arriving on a graphql-ws subscriber, at 10,000 msgs/s and at half the sustainable ingest rate,
 * each window with a checkpoint in it, with the longest event-loop task of the window.
 */
import type { Bench, Figure } from '../bench.js';
import { Floor } from '../floors.js';
import { short } from '../lib/measure.js';
import { runWorker as run } from '../lib/worker.js';

type Results = Record<string, number>;

const runWorker = (twins: number, quick: boolean) => run<Results>(new URL('../graphql-worker.ts', import.meta.url), [String(twins), quick ? 'quick' : 'full']);

const figure: Figure = {
  name: 'graphql',
  floors: [Floor.filterScan, Floor.h3GroupRes5, Floor.parseLookupUpdateBatch100],
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
    const e2e = (key: 'e2e10k' | 'e2eHalf', name: string, rate: string, goal: string) => {
      const v = (k: string) => r[`${key}.${k}`]!;
      const alerts = `${v('samples')} of ${v('alarms')} alerts${v('lost') > 0 ? `, ${v('lost')} lost` : ''}${v('refused') > 0 ? `, ${v('refused')} msgs refused` : ''}`;
      const checkpoints = `${v('checkpoints')} checkpoint${v('checkpoints') === 1 ? '' : 's'} in the window${v('forced') ? ' (one started by the bench halfway)' : ''}, ${v('checkpointMs').toFixed(0)} ms each`;
      const where = `message due -> alert on graphql-ws, ${rate}, ${tw} twins`;
      b.report({ name: `graphql.alert-e2e-${name}.p50`, value: v('p50'), unit: `ms (${where}, ${alerts})` });
      b.report({ name: `graphql.alert-e2e-${name}.p99`, value: v('p99'), unit: `ms (${where}, ${checkpoints})`, goal });
      b.report({ name: `graphql.alert-e2e-${name}.p999`, value: v('p999'), unit: `ms (${where})` });
      b.report({
        name: `graphql.alert-e2e-${name}.longest-task`,
        value: v('longestTaskMs'),
        unit: `ms (event loop of the server process, load generator included, ${rate})`,
      });
      b.report({ name: `graphql.alert-e2e-${name}.rate-reached`, value: v('achieved'), unit: `msgs/s (asked: ${rate})` });
    };
    e2e('e2e10k', '10k', '10,000 msgs/s', '<= 3 ms');
    e2e('e2eHalf', 'half', `half the sustainable rate, ${Math.round(r.halfRate!).toLocaleString('en-US')} msgs/s`, '<= 10 ms');
  },
};

export default figure;
