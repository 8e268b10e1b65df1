/**
 * Turns `aggregate` pushes into what charts draw: the current value per group (bar, pie) and a
 * bounded history of values over time (line, area).
 */
import type { Group, JSONValue } from '../graphql/types.ts';

export function groupLabel(key: JSONValue): string {
  if (key === null || key === undefined) return '(none)';
  return typeof key === 'string' ? key : JSON.stringify(key);
}

/** A group's value: its count for COUNT, else its first metric. */
export function groupValue(g: Group, count: boolean): number | null {
  return count ? g.count : (g.values?.[0] ?? null);
}

export interface Snapshot {
  labels: string[];
  values: (number | null)[];
}

/** The largest `limit` groups (the server sends largest count first), labelled. */
export function snapshot(groups: readonly Group[], count: boolean, limit: number): Snapshot {
  const top = groups.slice(0, limit);
  return { labels: top.map((g) => groupLabel(g.key)), values: top.map((g) => groupValue(g, count)) };
}

/** Values over time per series, keeping the last `capacity` points. */
export class History {
  readonly capacity: number;
  readonly times: number[] = [];
  readonly series = new Map<string, (number | null)[]>();

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  push(at: number, snap: Snapshot): void {
    this.times.push(at);
    const seen = new Set<string>();
    snap.labels.forEach((label, i) => {
      seen.add(label);
      let s = this.series.get(label);
      if (!s) {
        // a series that appears late starts with gaps, so all series line up with `times`
        s = new Array<number | null>(this.times.length - 1).fill(null);
        this.series.set(label, s);
      }
      s.push(snap.values[i] ?? null);
    });
    for (const [label, s] of this.series) if (!seen.has(label)) s.push(null);
    if (this.times.length > this.capacity) {
      const drop = this.times.length - this.capacity;
      this.times.splice(0, drop);
      for (const [label, s] of this.series) {
        s.splice(0, drop);
        if (s.every((v) => v === null)) this.series.delete(label);
      }
    }
  }
}
