/**
 * The beat the map's data layers update on: the shared UI beat, slowed down while the main thread
 * is busy. Under software WebGL one repaint of the map holds the main thread for 100–500 ms (the
 * browser reads every WebGL frame back for its software compositor), and one data update repaints
 * two or three times as its tiles come back from the worker; updating twins and hexagons on every
 * half-second beat left the page frozen most of the time. So a map update waits until the long
 * tasks since the previous one (the repaints it caused and whatever else held the main thread) add
 * up to at most `MAP_SHARE` of the time passed: the page stays responsive on any machine, and a
 * fast one, whose repaints are no long tasks at all, keeps the UI beat.
 */
import { BEAT_MS, onBeat } from '../util/beat.ts';

/** the share of the main thread long tasks may take before the map updates again */
export const MAP_SHARE = 0.3;
/** the longest a map update waits, however busy the page */
export const MAX_MAP_INTERVAL_MS = 4_000;

/** Sums the main-thread long tasks since the last map update and decides when the next may run. */
export class MapPacer {
  #busy = 0;
  #lastRun = -Infinity;
  #queue: (() => void)[] = [];
  #now: () => number;

  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
  }

  /** Tells the pacer a main-thread task took `ms` (from a `longtask` PerformanceObserver). */
  observe(ms: number): void {
    this.#busy += ms;
  }

  /** How long after the previous update the next one may run, given the long tasks seen since. */
  get interval(): number {
    return Math.min(MAX_MAP_INTERVAL_MS, Math.max(BEAT_MS, this.#busy / MAP_SHARE));
  }

  /** Runs `work` on the first UI beat at least `interval` after the previous map update (once, however often asked). */
  schedule(work: () => void): void {
    if (this.#queue.includes(work)) return;
    this.#queue.push(work);
    if (this.#queue.length === 1) onBeat(this.#tick);
  }

  #tick = (): void => {
    // beats land on multiples of BEAT_MS: half a beat of slack, or a due update waits a whole beat more
    if (this.#now() - this.#lastRun + BEAT_MS / 2 < this.interval) {
      onBeat(this.#tick);
      return;
    }
    this.#lastRun = this.#now();
    this.#busy = 0;
    const work = this.#queue;
    this.#queue = [];
    // every layer asked for updates in the same beat: their tiles come back together
    for (const w of work) {
      try {
        w();
      } catch (e) {
        // one failing layer must not keep the others from their update
        queueMicrotask(() => {
          throw e;
        });
      }
    }
  };
}

let shared: MapPacer | undefined;

/** The page's one pacer, fed by the browser's long-task entries where it reports them. */
export function mapPacer(): MapPacer {
  if (shared) return shared;
  const pacer = new MapPacer();
  shared = pacer;
  if (typeof PerformanceObserver !== 'undefined' && PerformanceObserver.supportedEntryTypes?.includes('longtask')) {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) pacer.observe(e.duration);
    }).observe({ type: 'longtask' });
  }
  return pacer;
}
