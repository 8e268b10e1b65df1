/**
 * Long scans in slices: a scan over a million twins (or the first use of an H3 resolution, which
 * computes every twin's cell) runs in chunks and gives the event loop back whenever a slice has
 * run SLICE_MS, so ingest, acknowledgements and other queries keep flowing while it works. The
 * state a sliced scan reads may change between slices: each twin is read as it is when reached
 * (a twin removed and created again between two slices may be seen in both its old and new slot).
 */

/** The longest a scan holds the event loop before yielding. */
export const SLICE_MS = 4;
/** Slots between clock readings (a chunk of cell computations stays well under a millisecond). */
const CHUNK = 256;

export const yieldToLoop = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Run `step(from, to)` over slots 0..end() in chunks, yielding to the event loop every SLICE_MS. */
export async function scanSliced(end: () => number, step: (from: number, to: number) => void): Promise<void> {
  let t0 = performance.now();
  for (let s = 0; s < end();) {
    const to = Math.min(end(), s + CHUNK);
    step(s, to);
    s = to;
    if (performance.now() - t0 >= SLICE_MS) {
      await yieldToLoop();
      t0 = performance.now();
    }
  }
}
