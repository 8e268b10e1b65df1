/**
 * An indexed min-heap of timer deadlines: each entry knows its place, so a restarted timer moves
 * in place and a stopped one is removed at once. No stale entries pile up (a model that restarts
 * a 5-minute timer on every batch keeps one entry, not one per batch).
 */
export interface TimerEntry<T> {
  due: number;
  seq: number;
  target: T;
  name: string;
  /** index in the heap; -1 once removed */
  i: number;
}

export class TimerHeap<T> {
  private heap: TimerEntry<T>[] = [];
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  push(due: number, target: T, name: string): TimerEntry<T> {
    const e: TimerEntry<T> = { due, seq: this.seq++, target, name, i: this.heap.length };
    this.heap.push(e);
    this.up(e.i);
    return e;
  }

  /** Move a live entry to a new deadline (it keeps its identity), or re-insert a removed one. */
  update(e: TimerEntry<T>, due: number): void {
    e.due = due;
    e.seq = this.seq++;
    if (e.i < 0) {
      e.i = this.heap.length;
      this.heap.push(e);
    }
    this.up(e.i);
    this.down(e.i);
  }

  remove(e: TimerEntry<T>): void {
    const i = e.i;
    if (i < 0) return;
    const h = this.heap;
    const last = h.pop()!;
    e.i = -1;
    if (last !== e) {
      h[i] = last;
      last.i = i;
      this.up(i);
      this.down(last.i);
    }
  }

  peek(): TimerEntry<T> | undefined {
    return this.heap[0];
  }

  pop(): TimerEntry<T> | undefined {
    const top = this.heap[0];
    if (top) this.remove(top);
    return top;
  }

  private up(i: number): void {
    const h = this.heap;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      this.swap(i, p);
      i = p;
    }
  }

  private down(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
      if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
  }

  private swap(a: number, b: number): void {
    const h = this.heap;
    const x = h[a]!;
    h[a] = h[b]!;
    h[b] = x;
    h[a]!.i = a;
    h[b]!.i = b;
  }

  private less(a: TimerEntry<T>, b: TimerEntry<T>): boolean {
    return a.due < b.due || (a.due === b.due && a.seq < b.seq);
  }
}
