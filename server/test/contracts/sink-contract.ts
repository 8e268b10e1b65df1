/**
 * The contract every Sink passes (nats, ndjson, webhook, postgres), against the real destination.
 * `received()` reads back what the destination holds, in arrival order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sink } from '../../src/sinks/sink.js';
import { alertEvent, twinChangedEvent, type SinkEvent } from '../../src/sinks/events.js';

export interface SinkHarness {
  sink: Sink;
  received(): Promise<SinkEvent[]>;
  cleanup(): Promise<void>;
}

let n = 0;
export function sampleEvents(count: number): SinkEvent[] {
  const run = ++n;
  return Array.from({ length: count }, (_, i) =>
    i % 3 === 2
      ? alertEvent({
          id: `a${run}-${i}`,
          model: 'truck',
          twinId: `t${i}`,
          severity: 'ERROR',
          title: 'hot',
          message: null,
          at: 1_700_000_000_000 + i,
          acknowledged: false,
          data: { i },
        })
      : twinChangedEvent({
          model: 'truck',
          id: `t${run}-${i}`,
          state: { speed: i, name: 'ü "q"' },
          lat: 52.5,
          lng: 13.4,
          createdAt: 1,
          updatedAt: 1_700_000_000_000 + i,
          version: i + 1,
          lastError: null,
        }),
  );
}

export function runSinkContract(name: string, create: () => Promise<SinkHarness>): void {
  describe(`Sink contract: ${name}`, () => {
    let h: SinkHarness;
    beforeAll(async () => {
      h = await create();
      await h.sink.open();
    });
    afterAll(async () => {
      await h.sink.close();
      await h.cleanup();
    });

    it('should deliver a batch whole and in order, each event as its JSON payload', async () => {
      const events = sampleEvents(7);
      await h.sink.deliver(events);
      const got = (await h.received()).filter((e) => events.some((x) => x.eventId === e.eventId));
      expect(got).toEqual(events);
    });

    it('should take a retried batch again without losing any event of it', async () => {
      const events = sampleEvents(5);
      await h.sink.deliver(events);
      await h.sink.deliver(events);
      const ids = new Set((await h.received()).map((e) => e.eventId));
      for (const e of events) expect(ids.has(e.eventId)).toBe(true);
    });

    it('should open again after close and keep delivering', async () => {
      await h.sink.close();
      await h.sink.open();
      const events = sampleEvents(2);
      await h.sink.deliver(events);
      const ids = new Set((await h.received()).map((e) => e.eventId));
      expect(events.every((e) => ids.has(e.eventId))).toBe(true);
    });
  });
}
