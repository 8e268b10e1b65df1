/**
 * The longest main-thread task: a probe timer due every few milliseconds notes how late it fires
 * (whatever held the event loop — a big batch, a checkpoint's encoding, a GC pause — made it
 * late), and `/metrics` shows the worst lateness since the previous scrape, then starts afresh:
 * `hextwin_event_loop_longest_task_seconds`. It is a lower bound of the longest task, short of it
 * by at most the probe interval. (perf_hooks' monitorEventLoopDelay loses the first delay after each
 * reset, which is the one a scrape-to-scrape maximum needs.)
 */
import { performance } from 'node:perf_hooks';
import { Gauge } from 'prom-client';
import type { Feature } from './feature.js';

/** ms between probes: the resolution of the figure, and ~200 wake-ups a second of cost */
const PROBE_MS = 5;

export const loopMonitorFeature: Feature = {
  name: 'loop-monitor',
  async start(ctx) {
    let worst = 0;
    let due = performance.now() + PROBE_MS;
    let timer: NodeJS.Timeout;
    const probe = () => {
      const now = performance.now();
      if (now - due > worst) worst = now - due;
      due = now + PROBE_MS;
      timer = setTimeout(probe, PROBE_MS).unref();
    };
    timer = setTimeout(probe, PROBE_MS).unref();
    new Gauge({
      name: 'hextwin_event_loop_longest_task_seconds',
      help: `Longest the event loop was held up since the previous scrape (a ${PROBE_MS} ms probe timer's lateness: a lower bound of the longest main-thread task)`,
      registers: [ctx.metrics],
      collect() {
        this.set(worst / 1000);
        worst = 0;
      },
    });
    return { stop: async () => clearTimeout(timer) };
  },
};
