/** `status`: the engine's counters from the metrics registry, and the ingest rate sampled over a few seconds. */
import { PARTITIONS } from '@hextwin/shared';
import type { Registry } from 'prom-client';
import type { AppContext } from '../../app/feature.js';

async function counterTotal(registry: Registry, name: string): Promise<number> {
  const m = registry.getSingleMetric(name);
  if (!m) return 0;
  const { values } = await m.get();
  let n = 0;
  for (const v of values) n += v.value;
  return n;
}

const WINDOW = 5;

export class StatusSampler {
  private readonly startedAt = performance.now();
  /** (time ms, messages in) samples, newest last */
  private samples: [number, number][] = [];
  private timer: NodeJS.Timeout;

  constructor(
    private readonly ctx: AppContext,
    private readonly version: string,
  ) {
    this.timer = setInterval(() => void this.sample(), 1_000);
    this.timer.unref();
    void this.sample();
  }

  private async sample(): Promise<void> {
    const n = await counterTotal(this.ctx.metrics, 'hextwin_messages_in_total');
    this.samples.push([performance.now(), n]);
    if (this.samples.length > WINDOW + 1) this.samples.shift();
  }

  /** Messages accepted per second over the last few seconds. */
  ingestRate(): number {
    const s = this.samples;
    if (s.length < 2) return 0;
    const [t0, n0] = s[0]!;
    const [t1, n1] = s[s.length - 1]!;
    return t1 > t0 ? ((n1 - n0) * 1000) / (t1 - t0) : 0;
  }

  async status() {
    const { engine, metrics, config } = this.ctx;
    const [messagesIn, messagesApplied, messagesFailed] = await Promise.all([
      counterTotal(metrics, 'hextwin_messages_in_total'),
      counterTotal(metrics, 'hextwin_messages_applied_total'),
      counterTotal(metrics, 'hextwin_messages_failed_total'),
    ]);
    return {
      version: this.version,
      ready: engine.ready,
      uptimeSeconds: (performance.now() - this.startedAt) / 1000,
      messagesIn,
      messagesApplied,
      messagesFailed,
      ingestRate: this.ingestRate(),
      twins: engine.twinCount(),
      mailboxDepth: engine.mailboxDepth,
      connectors: this.ctx.connectors(),
      // the embedded runtime owns every partition; a cluster node lists the live nodes and their shares
      nodes: (engine as { clusterNodes?: () => { id: string; partitions: number; self: boolean }[] }).clusterNodes?.() ?? [
        { id: config.nodeId, partitions: PARTITIONS, self: true },
      ],
    };
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
