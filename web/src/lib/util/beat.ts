/**
 * A shared half-second beat for UI updates. Twins, hexagons, alerts and charts each change on
 * their own schedule; run on one beat, their updates land in the same frame, so the page draws
 * (style, layout, paint, compositing) about twice a second instead of once per stream update.
 */
export const BEAT_MS = 500;

let queue: (() => void)[] = [];
let timer: ReturnType<typeof setTimeout> | undefined;

/** Runs `work` on the next beat (once, however often it is asked for before then). */
export function onBeat(work: () => void): void {
  if (!queue.includes(work)) queue.push(work);
  if (timer === undefined) {
    const now = typeof performance !== 'undefined' ? performance.now() : Date.now();
    timer = setTimeout(runBeat, BEAT_MS - (now % BEAT_MS));
  }
}

function runBeat(): void {
  timer = undefined;
  const work = queue;
  queue = [];
  for (const w of work) {
    try {
      w();
    } catch (e) {
      // one failing consumer must not starve the others of their beat
      queueMicrotask(() => {
        throw e;
      });
    }
  }
}
