/**
 * Time-window helpers over a twin's event list, as stream processors define them.
 * All take events in any order and a `time(e)` accessor in epoch ms; windows are [start, end).
 */
export interface Window<E> {
  start: number;
  end: number;
  events: E[];
}

/** Fixed, non-overlapping windows of `sizeMs`, aligned to multiples of `sizeMs` (plus `offsetMs`). */
export function tumblingWindows<E>(
  events: readonly E[],
  opts: { sizeMs: number; time: (e: E) => number; offsetMs?: number; from?: number; to?: number },
): Window<E>[] {
  return slidingWindows(events, { sizeMs: opts.sizeMs, stepMs: opts.sizeMs, time: opts.time, offsetMs: opts.offsetMs, from: opts.from, to: opts.to });
}

/** Overlapping windows of `sizeMs` starting every `stepMs`; only windows holding events (or inside from/to) are returned. */
export function slidingWindows<E>(
  events: readonly E[],
  opts: { sizeMs: number; stepMs: number; time: (e: E) => number; offsetMs?: number; from?: number; to?: number },
): Window<E>[] {
  const { sizeMs, stepMs, time } = opts;
  if (!(sizeMs > 0) || !(stepMs > 0)) throw new RangeError('sizeMs and stepMs must be positive');
  const offset = opts.offsetMs ?? 0;
  const sorted = [...events].sort((a, b) => time(a) - time(b));
  const windows = new Map<number, Window<E>>();
  const align = (t: number) => Math.floor((t - offset) / stepMs) * stepMs + offset;
  if (opts.from !== undefined && opts.to !== undefined) {
    for (let s = align(opts.from); s < opts.to; s += stepMs) windows.set(s, { start: s, end: s + sizeMs, events: [] });
  }
  for (const e of sorted) {
    const t = time(e);
    if (opts.from !== undefined && t < opts.from) continue;
    if (opts.to !== undefined && t >= opts.to) continue;
    // every window start s with s <= t < s + sizeMs
    for (let s = align(t); s > t - sizeMs; s -= stepMs) {
      let w = windows.get(s);
      if (!w) {
        if (opts.from !== undefined && opts.to !== undefined) continue;
        w = { start: s, end: s + sizeMs, events: [] };
        windows.set(s, w);
      }
      w.events.push(e);
    }
  }
  return [...windows.values()].sort((a, b) => a.start - b.start);
}

/** Windows that close after `gapMs` without an event (sessions of activity). */
export function sessionWindows<E>(events: readonly E[], opts: { gapMs: number; time: (e: E) => number }): Window<E>[] {
  const sorted = [...events].sort((a, b) => opts.time(a) - opts.time(b));
  const out: Window<E>[] = [];
  let cur: Window<E> | undefined;
  for (const e of sorted) {
    const t = opts.time(e);
    if (cur && t - (cur.end - 1) <= opts.gapMs) {
      cur.events.push(e);
      cur.end = t + 1;
    } else {
      cur = { start: t, end: t + 1, events: [e] };
      out.push(cur);
    }
  }
  return out;
}

/** A bounded list that keeps the newest `capacity` items (a twin's recent history). */
export class RingBuffer<T> {
  private items: T[] = [];
  private head = 0;
  constructor(readonly capacity: number) {
    if (!(capacity > 0)) throw new RangeError('capacity must be positive');
  }
  push(item: T): void {
    if (this.items.length < this.capacity) this.items.push(item);
    else {
      this.items[this.head] = item;
      this.head = (this.head + 1) % this.capacity;
    }
  }
  get length(): number {
    return this.items.length;
  }
  /** Oldest first. */
  toArray(): T[] {
    return this.items.length < this.capacity ? [...this.items] : [...this.items.slice(this.head), ...this.items.slice(0, this.head)];
  }
}

/** Push onto a plain array kept at most `max` long (newest last); for state that must stay JSON. */
export function pushBounded<T>(list: T[], item: T, max: number): T[] {
  list.push(item);
  if (list.length > max) list.splice(0, list.length - max);
  return list;
}
