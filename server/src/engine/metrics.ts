/** The engine's Prometheus metrics (prom-client), registered on the server's registry. */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export class EngineMetrics {
  readonly messagesIn: Counter<'model'>;
  readonly messagesApplied: Counter<'model'>;
  readonly messagesFailed: Counter<'model'>;
  readonly batchSeconds: Histogram;
  readonly storeCommitSeconds: Histogram;
  readonly checkpointSeconds: Histogram;
  readonly errors: Counter<'code'>;
  readonly twins: Gauge<'model'>;
  readonly mailboxDepth: Gauge;
  readonly quarantined: Gauge;

  constructor(
    registry: Registry,
    sample: {
      twins: () => Map<string, number>;
      queued: () => number;
      counts: () => { model: string; accepted: number; applied: number; failed: number }[];
      quarantined?: () => number;
    },
  ) {
    const reg = [registry];
    // counted in plain numbers on the hot path and published at scrape time
    const fromCounts = (key: 'accepted' | 'applied' | 'failed') => {
      const published = new Map<string, number>();
      return function (this: Counter<'model'>) {
        for (const c of sample.counts()) {
          const prev = published.get(c.model) ?? 0;
          if (c[key] > prev) {
            this.inc({ model: c.model }, c[key] - prev);
            published.set(c.model, c[key]);
          }
        }
      };
    };
    this.messagesIn = new Counter({
      name: 'hextwin_messages_in_total',
      help: 'Messages accepted (durably logged), by model',
      labelNames: ['model'],
      registers: reg,
      collect: fromCounts('accepted'),
    });
    this.messagesApplied = new Counter({
      name: 'hextwin_messages_applied_total',
      help: 'Messages processed by their model, by model',
      labelNames: ['model'],
      registers: reg,
      collect: fromCounts('applied'),
    });
    this.messagesFailed = new Counter({
      name: 'hextwin_messages_failed_total',
      help: 'Messages in batches whose model threw, by model',
      labelNames: ['model'],
      registers: reg,
      collect: fromCounts('failed'),
    });
    this.batchSeconds = new Histogram({
      name: 'hextwin_batch_seconds',
      help: 'Time a model takes for one batch of one twin (sampled)',
      buckets: [1e-6, 5e-6, 2e-5, 1e-4, 5e-4, 2e-3, 1e-2, 0.05, 0.25],
      registers: reg,
    });
    this.storeCommitSeconds = new Histogram({
      name: 'hextwin_store_commit_seconds',
      help: 'Time from accepting a batch to its durable commit',
      buckets: [1e-4, 5e-4, 1e-3, 2e-3, 5e-3, 1e-2, 2e-2, 5e-2, 0.1, 0.5, 1],
      registers: reg,
    });
    this.checkpointSeconds = new Histogram({
      name: 'hextwin_checkpoint_seconds',
      help: 'Time to write a checkpoint of changed twins',
      buckets: [1e-3, 1e-2, 0.05, 0.1, 0.5, 1, 5],
      registers: reg,
    });
    this.errors = new Counter({ name: 'hextwin_errors_total', help: 'Errors by code, from every surface', labelNames: ['code'], registers: reg });
    this.twins = new Gauge({
      name: 'hextwin_twins',
      help: 'Live twins by model',
      labelNames: ['model'],
      registers: reg,
      collect() {
        for (const [m, n] of sample.twins()) this.set({ model: m }, n);
      },
    });
    this.mailboxDepth = new Gauge({
      name: 'hextwin_mailbox_depth',
      help: 'Messages waiting in twin mailboxes',
      registers: reg,
      collect() {
        this.set(sample.queued());
      },
    });
    this.quarantined = new Gauge({
      name: 'hextwin_quarantined_twins',
      help: 'Twins (or whole models) whose code is not run until an operator releases them',
      registers: reg,
      collect() {
        this.set(sample.quarantined?.() ?? 0);
      },
    });
  }
}
