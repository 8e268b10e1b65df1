/**
 * The sinks feature: exports state changes, alerts and geofence events to the sinks of SINKS_FILE.
 *
 * On the ingest path it only remembers which twins changed (a Set add: a twin that changes many
 * times in one delivery cycle is exported once, with its latest state). Every `flushMs` the cycle's
 * events are filtered per sink and appended to each sink's durable queue in one transaction; each
 * sink then takes batches of at most `batchSize` from its queue, one batch at a time, retried with
 * back-off until the sink has it. See docs/SINKS.md.
 */
import path from 'node:path';
import { Counter, Gauge } from 'prom-client';
import { SEVERITY_RANK } from '@hextwin/shared';
import type { Logger } from 'pino';
import type { Feature } from '../app/feature.js';
import type { TwinView } from '../engine/types.js';
import { loadSinks, type SinkConfig } from './config.js';
import { SinkQueues, type SinkQueue } from './durable-queue.js';
import { alertEvent, geofenceEvent, twinChangedEvent, type SinkEvent } from './events.js';
import { sinkTopics } from './hub.js';
import { NatsSink } from './nats-sink.js';
import { NdjsonSink } from './ndjson-sink.js';
import { PostgresSink } from './postgres-sink.js';
import { SinkRefused, withTimeout, type Sink } from './sink.js';
import { WebhookSink } from './webhook-sink.js';

export function createSink(cfg: SinkConfig): Sink {
  switch (cfg.type) {
    case 'nats':
      return new NatsSink(cfg);
    case 'ndjson':
      return new NdjsonSink(cfg);
    case 'webhook':
      return new WebhookSink(cfg);
    case 'postgres':
      return new PostgresSink(cfg);
  }
}

export function wants(cfg: SinkConfig, e: SinkEvent): boolean {
  if (!cfg.events.includes(e.kind)) return false;
  if (cfg.models !== null && !cfg.models.includes(e.model)) return false;
  return e.kind !== 'alert' || SEVERITY_RANK[e.severity] >= SEVERITY_RANK[cfg.minSeverity];
}

interface SinkMetrics {
  delivered: Counter<'sink'>;
  failed: Counter<'sink'>;
  retried: Counter<'sink'>;
  dropped: Counter<'sink' | 'reason'>;
}

/** Takes batches from one sink's queue and hands them to the sink, one at a time, until it is empty. */
class SinkPump {
  private running = false;
  private stopped = false;
  private opened = false;
  private failures = 0;
  private wake: (() => void) | null = null;
  private done: Promise<void> = Promise.resolve();

  constructor(
    readonly cfg: SinkConfig,
    readonly sink: Sink,
    readonly queue: SinkQueue,
    private readonly m: SinkMetrics,
    private readonly log: Logger,
  ) {}

  kick(): void {
    if (this.wake) return; // waiting out a back-off: the retry comes at its time
    if (!this.running && !this.stopped) this.done = this.run().catch((e) => this.log.error({ err: e, sink: this.cfg.name }, 'sink pump failed'));
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      while (!this.stopped) {
        const items = this.queue.peek(this.cfg.batchSize);
        if (items.length === 0) break;
        try {
          if (!this.opened) {
            await withTimeout(this.sink.open(), this.cfg.timeoutMs, 'open');
            this.opened = true;
          }
          await withTimeout(this.sink.deliver(items.map((i) => i.event)), this.cfg.timeoutMs, 'delivery');
          this.m.delivered.labels(this.cfg.name).inc(items.length);
          if (this.failures > 0) this.log.info({ sink: this.cfg.name, after: this.failures }, 'sink delivering again');
          this.failures = 0;
        } catch (e) {
          if (e instanceof SinkRefused) {
            this.m.dropped.labels(this.cfg.name, 'refused').inc(items.length);
            this.log.error({ sink: this.cfg.name, reason: e.message, events: items.length }, 'sink refused a batch; dropped');
          } else {
            this.m.failed.labels(this.cfg.name).inc();
            this.m.retried.labels(this.cfg.name).inc(items.length);
            if (this.failures++ === 0) this.log.warn({ sink: this.cfg.name, reason: (e as Error).message }, 'sink delivery failed; retrying');
            await this.backoff();
            continue;
          }
        }
        await this.queue.ack(items[items.length - 1]!.seq);
      }
    } finally {
      this.running = false;
    }
  }

  private backoff(): Promise<void> {
    const base = Math.min(this.cfg.retryMaxMs, this.cfg.retryBaseMs * 2 ** Math.min(20, this.failures - 1));
    const ms = Math.round(base / 2 + (Math.random() * base) / 2);
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wake = null;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(t);
        this.wake = null;
        resolve();
      };
    });
  }

  async stop(graceMs: number): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await Promise.race([this.done, new Promise((r) => setTimeout(r, graceMs).unref())]);
    await this.sink.close().catch(() => undefined);
  }
}

export interface SinksOptions {
  /** ms between delivery cycles (conflation window), default 50 */
  flushMs?: number;
}

export function sinksFeature(opts: SinksOptions = {}): Feature {
  const flushMs = opts.flushMs ?? 50;
  return {
    name: 'sinks',
    async start(ctx) {
      const file = ctx.config.sinksFile;
      if (!file) return;
      const configs = loadSinks(file);
      if (configs.length === 0) return;
      const log = ctx.logger.child({ part: 'sinks' });
      const registers = [ctx.metrics];
      const m: SinkMetrics = {
        delivered: new Counter({ name: 'hextwin_sink_delivered_total', help: 'Events a sink has taken', labelNames: ['sink'], registers }),
        failed: new Counter({
          name: 'hextwin_sink_failed_total',
          help: 'Sink delivery attempts that failed (the batch is retried)',
          labelNames: ['sink'],
          registers,
        }),
        retried: new Counter({
          name: 'hextwin_sink_retried_total',
          help: 'Events queued for another attempt after a failed delivery',
          labelNames: ['sink'],
          registers,
        }),
        dropped: new Counter({
          name: 'hextwin_sink_dropped_total',
          help: 'Events a sink will never get: queue full (oldest dropped) or refused by the destination',
          labelNames: ['sink', 'reason'],
          registers,
        }),
      };
      const conflated = new Counter({
        name: 'hextwin_sink_conflated_total',
        help: 'State changes superseded by a later one in the same delivery cycle',
        registers,
      });
      const queues = new SinkQueues(path.join(ctx.config.dataDir, 'sinks'));
      const pumps = configs.map((c) => new SinkPump(c, createSink(c), queues.queue(c.name, c.maxQueue), m, log));
      new Gauge({
        name: 'hextwin_sink_queue_depth',
        help: 'Events waiting in a sink durable queue',
        labelNames: ['sink'],
        registers,
        collect() {
          for (const p of pumps) this.set({ sink: p.cfg.name }, p.queue.depth);
        },
      });
      new Gauge({
        name: 'hextwin_sink_lag_seconds',
        help: 'Age of the oldest event a sink has not yet taken (0 when none waits)',
        labelNames: ['sink'],
        registers,
        collect() {
          const now = Date.now();
          for (const p of pumps) {
            const at = p.queue.oldestAt();
            this.set({ sink: p.cfg.name }, at === null ? 0 : Math.max(0, now - at) / 1000);
          }
        },
      });

      // the ingest path: O(1) per change, nothing encoded until the cycle ends
      let changed = new Set<TwinView>();
      let changes = 0;
      let others: SinkEvent[] = [];
      const offs: (() => void)[] = [];
      const wanted = new Set(configs.flatMap((c) => c.events));
      if (wanted.has('twinChanged'))
        offs.push(
          ctx.engine.on('twinChanged', (e) => {
            changes++;
            changed.add(e.twin);
          }),
        );
      if (wanted.has('alert')) offs.push(ctx.engine.on('alert', (a) => others.push(alertEvent(a))));
      if (wanted.has('geofence')) offs.push(sinkTopics(ctx.engine).on('geofence', (g) => others.push(geofenceEvent(g))));

      let flushing: Promise<void> | null = null;
      const flush = async (): Promise<void> => {
        if (changed.size === 0 && others.length === 0) return;
        const twins = changed;
        const rest = others;
        changed = new Set();
        others = [];
        conflated.inc(changes - twins.size);
        changes = 0;
        const events: SinkEvent[] = [];
        for (const t of twins) events.push(twinChangedEvent(t));
        for (const e of rest) events.push(e);
        const items: { queue: SinkQueue; events: SinkEvent[] }[] = [];
        for (const p of pumps) {
          const mine = events.filter((e) => wants(p.cfg, e));
          if (mine.length > 0) items.push({ queue: p.queue, events: mine });
        }
        if (items.length === 0) return;
        await queues.appendAll(items, Date.now());
        for (const p of pumps) {
          const d = p.queue.takeDropped();
          if (d > 0) m.dropped.labels(p.cfg.name, 'full').inc(d);
          p.kick();
        }
      };
      const cycle = () => {
        if (flushing) return;
        flushing = flush()
          .catch((e) => log.error({ err: e }, 'sink queue append failed'))
          .finally(() => (flushing = null));
      };
      const timer = setInterval(cycle, flushMs);
      timer.unref();
      // a checkpoint may make the log forget messages whose events still wait here: queue them first
      const offBarrier = ctx.engine.beforeCheckpointCommit?.(async () => {
        await flushing;
        await flush().catch((e) => log.error({ err: e }, 'sink queue append failed'));
      });
      // events queued before a restart go out now
      for (const p of pumps) p.kick();
      log.info({ sinks: configs.map((c) => `${c.name} (${c.type})`) }, 'sinks configured');
      return {
        async stop() {
          clearInterval(timer);
          offBarrier?.();
          for (const off of offs) off();
          await flushing;
          await flush().catch((e) => log.error({ err: e }, 'sink queue append failed'));
          await Promise.all(pumps.map((p) => p.stop(1_000)));
          await queues.close();
        },
      };
    },
  };
}
