/**
 * The `aggregate` / `hexAggregate` subscriptions: a maintained aggregate (shared by identical
 * subscriptions) pushed at most every `everyMs`, and only when its result changed. Nothing is
 * computed for a subscriber that has not taken the previous result yet. Refreshes run in slices
 * that give the event loop back; an aggregate with more groups than GRAPHQL_MAX_GROUPS ends the
 * subscription with TOO_MANY_GROUPS.
 */
import { HextwinError } from '@hextwin/shared';
import { Feed, tooManyGroups, type LiveAggregateHandle } from '../../index/index.js';

export const MIN_EVERY_MS = 100;
export const MAX_EVERY_MS = 3_600_000;

export function checkEveryMs(everyMs: number): void {
  if (!Number.isInteger(everyMs) || everyMs < MIN_EVERY_MS || everyMs > MAX_EVERY_MS) {
    throw new HextwinError('BAD_REQUEST', `everyMs must be a whole number from ${MIN_EVERY_MS} to ${MAX_EVERY_MS}`);
  }
}

export class AggregateFeed<T> extends Feed<T[]> {
  private lastJson: string | null = null;
  private lastVersion = -1;
  private lastAt = -Infinity;
  private timer: NodeJS.Timeout | null = null;
  private wake: (() => void) | null = null;
  private closed = false;

  constructor(
    private readonly handle: LiveAggregateHandle,
    private readonly snapshot: () => T[],
    private readonly everyMs: number,
    private readonly maxGroups: number,
    private readonly onClose: () => void,
  ) {
    super();
  }

  async next(): Promise<IteratorResult<T[]>> {
    for (;;) {
      if (this.closed) return { value: undefined, done: true };
      const wait = this.lastAt + this.everyMs - performance.now();
      if (wait > 0) {
        await new Promise<void>((r) => {
          this.wake = r;
          this.timer = setTimeout(r, wait);
        });
        this.wake = null;
        this.timer = null;
        continue;
      }
      this.lastAt = performance.now();
      const agg = this.handle.aggregate;
      await agg.refreshSliced();
      if (this.closed) continue;
      if (agg.overflowed) {
        this.close();
        throw tooManyGroups(this.maxGroups, agg.spec.kind === 'hex' ? 'cells' : 'groups');
      }
      if (agg.version === this.lastVersion) continue;
      this.lastVersion = agg.version;
      const value = this.snapshot();
      const json = JSON.stringify(value);
      if (json === this.lastJson) continue;
      this.lastJson = json;
      return { value, done: false };
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.wake?.();
    this.handle.release();
    this.onClose();
  }
}
