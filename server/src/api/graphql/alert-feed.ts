/**
 * The `alerts` subscription: every new alert matching (model, minSeverity), in order. Alerts are
 * events, not states, so they cannot be conflated: a subscriber that falls more than `maxQueued`
 * alerts behind is ended with RATE_LIMITED (and can catch up with the `alerts(since:)` query)
 * rather than growing server memory.
 */
import { HextwinError, SEVERITY_RANK, type Severity } from '@hextwin/shared';
import type { AlertRecord, EngineApi } from '../../engine/types.js';
import { Feed } from '../../index/index.js';

export const MAX_QUEUED_ALERTS = 10_000;

export class AlertFeed extends Feed<AlertRecord> {
  private queue: AlertRecord[] = [];
  private head = 0;
  private wake: (() => void) | null = null;
  private overflowed = false;
  private closed = false;
  private readonly detach: () => void;

  constructor(
    engine: EngineApi,
    filter: { model?: string | null; minSeverity?: Severity | null },
    private readonly onClose: () => void,
    private readonly maxQueued = MAX_QUEUED_ALERTS,
  ) {
    super();
    const min = filter.minSeverity ? SEVERITY_RANK[filter.minSeverity] : 0;
    const model = filter.model ?? undefined;
    this.detach = engine.on('alert', (a) => {
      if ((model !== undefined && a.model !== model) || SEVERITY_RANK[a.severity] < min || this.overflowed) return;
      if (this.queue.length - this.head >= this.maxQueued) this.overflowed = true;
      else this.queue.push(a);
      this.wake?.();
    });
  }

  async next(): Promise<IteratorResult<AlertRecord>> {
    for (;;) {
      if (this.closed) return { value: undefined, done: true };
      if (this.head < this.queue.length) {
        const a = this.queue[this.head]!;
        this.queue[this.head++] = undefined as unknown as AlertRecord;
        if (this.head > 1024 && this.head * 2 > this.queue.length) {
          this.queue = this.queue.slice(this.head);
          this.head = 0;
        }
        return { value: a, done: false };
      }
      if (this.overflowed) {
        this.close();
        throw new HextwinError(
          'RATE_LIMITED',
          `this subscriber fell more than ${this.maxQueued} alerts behind; query alerts(since:) to catch up, then subscribe again`,
        );
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
    this.onClose();
  }
}
