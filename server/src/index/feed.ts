/**
 * What every subscription feed shares: it is its own async iterator, and however it ends (the
 * consumer's `return` or `throw`, or the server's `close`) it goes through `close`, which releases
 * what the feed holds. Subclasses write `next` and `close`.
 */
export abstract class Feed<T> implements AsyncIterableIterator<T> {
  abstract next(): Promise<IteratorResult<T>>;

  /** Ends the feed and releases what it holds; safe to call more than once. */
  abstract close(): void;

  [Symbol.asyncIterator](): this {
    return this;
  }

  async return(): Promise<IteratorResult<T>> {
    this.close();
    return { value: undefined, done: true };
  }

  async throw(e: unknown): Promise<IteratorResult<T>> {
    this.close();
    throw e;
  }
}
