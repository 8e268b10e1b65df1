import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SinkQueues } from '../../src/sinks/durable-queue.js';
import { sampleEvents } from '../contracts/sink-contract.js';

const dirs: string[] = [];
const freshDir = () => {
  const d = mkdtempSync(path.join(tmpdir(), 'hextwin-sinkq-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('Sink durable queue', () => {
  it('should hand out events in order from the cursor and keep undelivered ones across a reopen', async () => {
    const dir = freshDir();
    let qs = new SinkQueues(dir);
    const events = sampleEvents(6);
    await qs.appendAll([{ queue: qs.queue('a', 100), events }], 1_000);
    const first = qs.queue('a', 100).peek(4);
    expect(first.map((q) => q.event)).toEqual(events.slice(0, 4));
    await qs.queue('a', 100).ack(first[1]!.seq);
    await qs.close();

    qs = new SinkQueues(dir);
    const q = qs.queue('a', 100);
    expect(q.depth).toBe(4);
    expect(q.peek(10).map((x) => x.event)).toEqual(events.slice(2));
    expect(q.oldestAt()).toBe(1_000);
    await qs.close();
  });

  it('should drop the oldest events past maxQueue and count them', async () => {
    const qs = new SinkQueues(freshDir());
    const q = qs.queue('small', 3);
    const events = sampleEvents(5);
    await qs.appendAll([{ queue: q, events }], 1);
    expect(q.depth).toBe(3);
    expect(q.takeDropped()).toBe(2);
    expect(q.takeDropped()).toBe(0);
    expect(q.peek(10).map((x) => x.event)).toEqual(events.slice(2));
    await qs.close();
  });

  it('should keep each sink its own queue and cursor', async () => {
    const qs = new SinkQueues(freshDir());
    const [a, b] = [qs.queue('a', 10), qs.queue('b', 10)];
    const events = sampleEvents(2);
    await qs.appendAll(
      [
        { queue: a, events },
        { queue: b, events: events.slice(0, 1) },
      ],
      1,
    );
    await a.ack(a.peek(10)[1]!.seq);
    expect([a.depth, b.depth]).toEqual([0, 1]);
    await qs.close();
  });
});
