/** Keeps the k smallest items of a stream under a comparator (a bounded max-heap): O(n log k). */
export class TopK<T> {
  private heap: T[] = [];

  constructor(
    private readonly k: number,
    private readonly cmp: (a: T, b: T) => number,
  ) {}

  /** Offer one item. */
  push(item: T): void {
    const h = this.heap;
    if (this.k <= 0) return;
    if (h.length < this.k) {
      h.push(item);
      this.up(h.length - 1);
    } else if (this.cmp(item, h[0]!) < 0) {
      h[0] = item;
      this.down(0);
    }
  }

  /** The kept items, smallest first. */
  sorted(): T[] {
    return this.heap.slice().sort(this.cmp);
  }

  private up(i: number): void {
    const h = this.heap;
    const x = h[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.cmp(x, h[p]!) <= 0) break;
      h[i] = h[p]!;
      i = p;
    }
    h[i] = x;
  }

  private down(i: number): void {
    const h = this.heap;
    const n = h.length;
    const x = h[i]!;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && this.cmp(h[c + 1]!, h[c]!) > 0) c++;
      if (this.cmp(h[c]!, x) <= 0) break;
      h[i] = h[c]!;
      i = c;
    }
    h[i] = x;
  }
}
