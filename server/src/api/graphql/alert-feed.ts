/**
 * The `alerts` subscription: every new alert matching (model, minSeverity), in order. Alerts are
 * events, not states, so they cannot be conflated: a subscriber that falls more than `maxQueued`
 * alerts behind is ended with RATE_LIMITED (and can catch up with the `alerts(since:)` query)
 * rather than growing server memory.
 */
import { SEVERITY_RANK, type Severity } from '@hextwin/shared';
import type { AlertRecord, EngineApi } from '../../engine/types.js';
import { EventFeed } from './event-feed.js';

export const MAX_QUEUED_ALERTS = 10_000;

export class AlertFeed extends EventFeed<AlertRecord> {
  constructor(engine: EngineApi, filter: { model?: string | null; minSeverity?: Severity | null }, onClose: () => void, maxQueued = MAX_QUEUED_ALERTS) {
    const min = filter.minSeverity ? SEVERITY_RANK[filter.minSeverity] : 0;
    const model = filter.model ?? undefined;
    super({
      attach: (push) =>
        engine.on('alert', (a) => {
          if ((model === undefined || a.model === model) && SEVERITY_RANK[a.severity] >= min) push(a);
        }),
      onClose,
      maxQueued,
      what: 'alerts',
      catchUp: 'query alerts(since:) to catch up, then subscribe again',
    });
  }
}
