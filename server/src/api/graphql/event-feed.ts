/**
 * A subscription to events (not states, so they cannot be conflated), delivered in order. A
 * subscriber that falls more than `maxQueued` events behind is ended with RATE_LIMITED (`catchUp`
 * says how to recover) rather than growing server memory.
 */
import { HextwinError } from '@hextwin/shared';
import { Feed } from '../../index/index.js';

export interface EventFeedOptions<T> {
  /** start listening: `push` each event; returns the function that stops it */
  attach(push: (e: T) => void): () => void;
  /** called once the feed closes */
  onClose(): void;
  maxQueued: number;
  /** what the events are, for the RATE_LIMITED message ("alerts") */
  what: string;
  /** how a subscriber that fell behind catches up, for the same message */
  catchUp: string;
}

export class EventFeed<T> extends Feed<T> {
  private queue: T[] = [];
  private head = 0;
  private wake: (() => void) | null = null;
  private overflowed = false;
  private closed = false;
  private readonly detach: () => void;

  constructor(private readonly opts: EventFeedOptions<T>) {
    super();
    this.detach = opts.attach((e) => {
      if (this.overflowed || this.closed) return;
      if (this.queue.length - this.head >= opts.maxQueued) this.overflowed = true;
      else this.queue.push(e);
      this.wake?.();
    });
  }

  async next(): Promise<IteratorResult<T>> {
    for (;;) {
      if (this.closed) return { value: undefined, done: true };
      if (this.head < this.queue.length) {
        const e = this.queue[this.head]!;
        this.queue[this.head++] = undefined as unknown as T;
        if (this.head > 1024 && this.head * 2 > this.queue.length) {
          this.queue = this.queue.slice(this.head);
          this.head = 0;
        }
        return { value: e, done: false };
      }
      if (this.overflowed) {
        this.close();
        throw new HextwinError('RATE_LIMITED', `this subscriber fell more than ${this.opts.maxQueued} ${this.opts.what} behind; ${this.opts.catchUp}`);
      }
      await new Promise<void>((r) => (this.wake = r));
      this.wake = null;
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.detach();
    this.queue = [];
    this.head = 0;
    this.wake?.();
    this.opts.onClose();
  }
}
