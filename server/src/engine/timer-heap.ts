/** A min-heap of timer deadlines. Entries are cancelled lazily by generation. */
export interface TimerEntry<T> {
  due: number;
  seq: number;
  target: T;
  name: string;
  gen: number;
}

export class TimerHeap<T> {
  private heap: TimerEntry<T>[] = [];
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  push(due: number, target: T, name: string, gen: number): void {
    const e: TimerEntry<T> = { due, seq: this.seq++, target, name, gen };
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  peek(): TimerEntry<T> | undefined {
    return this.heap[0];
  }

  pop(): TimerEntry<T> | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }

  private less(a: TimerEntry<T>, b: TimerEntry<T>): boolean {
    return a.due < b.due || (a.due === b.due && a.seq < b.seq);
  }
}
