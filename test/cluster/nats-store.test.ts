import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { NatsStore, type NatsStoreOptions } from '@hextwin/server/cluster/nats-store';
import { ensureClusterStreams, type ClusterStreams } from '@hextwin/server/cluster/jetstream';
import { clusterNames, type ClusterNames } from '@hextwin/server/cluster/names';
import { encodeRecord } from '@hextwin/server/cluster/codec';
import { JsPublisher } from '@hextwin/server/cluster/js-publisher';
import { runStoreContract } from '@hextwin/server/contracts/store-contract';
import type { LogRecord, StoredTwin } from '@hextwin/server/store/store';
import { startNats, type NatsHandle } from '../kit/nats.js';

let nats: NatsHandle;
let nc: NatsConnection;
let publisher: JsPublisher;
let seq = 0;

beforeAll(async () => {
  nats = await startNats();
  nc = await connect({ servers: nats.url });
  publisher = new JsPublisher(nc);
});
afterAll(async () => {
  publisher?.close();
  await nc?.close();
  await nats?.cleanup();
});

/** A fresh cluster namespace per store, so stores never see each other's data. */
async function fresh(): Promise<{ names: ClusterNames; streams: ClusterStreams }> {
  const names = clusterNames(`t${++seq}`);
  return { names, streams: await ensureClusterStreams(nc, names) };
}

function storeOf(names: ClusterNames, streams: ClusterStreams, extra: Partial<NatsStoreOptions> = {}): NatsStore {
  return new NatsStore({ js: streams.js, jsm: streams.jsm, names, partition: 7, ...extra });
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

runStoreContract('nats', {
  async create() {
    const { names, streams } = await fresh();
    return { store: storeOf(names, streams), reopen: async () => storeOf(names, streams) };
  },
});

runStoreContract("nats, writing through the cluster node's publisher", {
  async create() {
    const { names, streams } = await fresh();
    return { store: storeOf(names, streams, { publisher }), reopen: async () => storeOf(names, streams, { publisher }) };
  },
});

const twin = (id: string, lastPos: number, state: unknown = { v: lastPos }): StoredTwin => ({
  model: 'm',
  id,
  state,
  lastPos,
  createdAt: 1,
  updatedAt: 2,
  version: 1,
});

describe('NatsStore in a cluster', () => {
  it('gives replayed records the positions the previous owner gave them, and fresh ones past the checkpoint', async () => {
    const { names, streams } = await fresh();
    const publish = async (n: number) =>
      (
        await streams.js.publish(
          names.logSubject(7),
          encodeRecord({ groups: [{ source: null, envelopes: Array.from({ length: n }, (_, i) => ({ model: 'm', id: `x${i}`, message: i })) }] }),
        )
      ).seq;
    const a = storeOf(names, streams);
    await a.open();
    expect(await collect(a.readLog(0))).toEqual([]);
    const s1 = await publish(2);
    const s2 = await publish(1);
    // the engine gave these records positions 10 and 15 (internal messages took 12..14)
    a.noteConsumed(s1, 10, 2);
    a.noteConsumed(s2, 15, 1);
    await a.checkpoint({ twins: [twin('x0', 10)], removed: [], pending: [], truncateBelow: 10, nextPos: 16 });
    const s3 = await publish(3);
    await a.close();

    const b = storeOf(names, streams);
    await b.open();
    const recs = await collect(b.readLog(10));
    expect(recs.map((r) => [r.pos, r.envelopes.length])).toEqual([
      [10, 2],
      [15, 1],
      [16, 3],
    ]);
    expect(b.nextLogSeq).toBe(s3 + 1);
    await b.close();
  });

  it('forgets records that were fully applied before the checkpoint', async () => {
    const { names, streams } = await fresh();
    const a = storeOf(names, streams);
    await a.open();
    const s1 = (await streams.js.publish(names.logSubject(7), encodeRecord({ groups: [{ source: null, envelopes: [{ model: 'm', id: 'a', message: 1 }] }] })))
      .seq;
    const s2 = (await streams.js.publish(names.logSubject(7), encodeRecord({ groups: [{ source: null, envelopes: [{ model: 'm', id: 'b', message: 2 }] }] })))
      .seq;
    a.noteConsumed(s1, 1, 1);
    a.noteConsumed(s2, 2, 1);
    await a.checkpoint({ twins: [twin('a', 1)], removed: [], pending: [], truncateBelow: 2, nextPos: 3 });
    await a.close();
    const b = storeOf(names, streams);
    await b.open();
    expect((await collect(b.readLog(2))).map((r) => r.envelopes[0]!.id)).toEqual(['b']);
    await b.close();
  });

  it('fences the previous owner once a new owner opens the partition', async () => {
    const { names, streams } = await fresh();
    const old = storeOf(names, streams, { publisher });
    await old.open();
    await old.checkpoint({ twins: [twin('a', 1)], removed: [], pending: [], truncateBelow: 1, nextPos: 2 });
    const next = storeOf(names, streams);
    await next.open();
    await expect(old.checkpoint({ twins: [twin('a', 2)], removed: [], pending: [], truncateBelow: 2, nextPos: 3 })).rejects.toMatchObject({
      code: 'STORE_FAILED',
    });
    await next.checkpoint({ twins: [twin('b', 3)], removed: [], pending: [], truncateBelow: 3, nextPos: 4 });
    await next.close();
    const again = storeOf(names, streams);
    await again.open();
    expect((await collect(again.loadTwins())).map((t) => [t.id, t.lastPos]).sort()).toEqual([
      ['a', 1],
      ['b', 3],
    ]);
    await again.close();
  });

  it('splits a large checkpoint over several messages and compacts deltas into a base', async () => {
    const { names, streams } = await fresh();
    const opts = { chunkBytes: 2_000, compactBytes: 20_000 };
    const a = storeOf(names, streams, opts);
    await a.open();
    const alerts = a.table<{ n: number }>('alerts');
    for (let round = 1; round <= 12; round++) {
      alerts.put(`k${round}`, { n: round });
      const twins = Array.from({ length: 100 }, (_, i) => twin(`t${i}`, round, { round, pad: 'x'.repeat(40) })).filter((t) => round < 12 || t.id !== 't0');
      await a.checkpoint({
        twins,
        removed: round === 12 ? [{ model: 'm', id: 't0', lastPos: 12 }] : [],
        pending: [],
        truncateBelow: round,
        nextPos: round + 1,
      });
    }
    await a.flushed();
    await a.close();
    const info = await streams.jsm.streams.info(names.stateStream, { subjects_filter: names.stateSubject(7) });
    const kept = info.state.subjects?.[names.stateSubject(7)] ?? 0;
    const b = storeOf(names, streams, opts);
    await b.open();
    const twins = await collect(b.loadTwins());
    expect(twins).toHaveLength(99);
    expect(twins.every((t) => (t.state as { round: number }).round === 12)).toBe(true);
    expect(await b.loadTombstones()).toEqual([{ model: 'm', id: 't0', lastPos: 12 }]);
    expect([...b.table<{ n: number }>('alerts').entries()]).toHaveLength(12);
    expect(await b.loadMeta()).toEqual({ nextPos: 13, truncateBelow: 12 });
    // 12 rounds of ~3 chunks each were written; compaction kept far fewer
    expect(kept).toBeLessThan(20);
    await b.close();
  });

  it('purges the part of the log every twin has applied', async () => {
    const { names, streams } = await fresh();
    const a = storeOf(names, streams, { purgeEveryMs: 0 });
    await a.open();
    const seqs: number[] = [];
    for (let i = 0; i < 5; i++)
      seqs.push(
        (await streams.js.publish(names.logSubject(7), encodeRecord({ groups: [{ source: null, envelopes: [{ model: 'm', id: 'a', message: i }] }] }))).seq,
      );
    seqs.forEach((s, i) => a.noteConsumed(s, i + 1, 1));
    await a.checkpoint({ twins: [twin('a', 4)], removed: [], pending: [], truncateBelow: 5, nextPos: 6 });
    const deadline = Date.now() + 3_000;
    let left = 5;
    while (Date.now() < deadline) {
      const info = await streams.jsm.streams.info(names.logStream, { subjects_filter: names.logSubject(7) });
      left = info.state.subjects?.[names.logSubject(7)] ?? 0;
      if (left === 1) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(left).toBe(1);
    await a.close();
  });

  it('applies removals before writes, so a twin removed and created anew between checkpoints stays', async () => {
    const { names, streams } = await fresh();
    const a = storeOf(names, streams);
    await a.open();
    await a.checkpoint({ twins: [twin('a', 1, { gen: 1 })], removed: [], pending: [], truncateBelow: 1, nextPos: 2 });
    await a.checkpoint({ twins: [twin('a', 5, { gen: 2 })], removed: [{ model: 'm', id: 'a', lastPos: 3 }], pending: [], truncateBelow: 2, nextPos: 6 });
    await a.close();
    const b = storeOf(names, streams);
    await b.open();
    expect((await collect(b.loadTwins())).map((t) => t.state)).toEqual([{ gen: 2 }]);
    await b.close();
  });

  it('leaves the records past the checkpoint to the live consumer when asked to', async () => {
    const { names, streams } = await fresh();
    const publish = async (id: string) =>
      (await streams.js.publish(names.logSubject(7), encodeRecord({ groups: [{ source: null, envelopes: [{ model: 'm', id, message: 1 }] }] }))).seq;
    const a = storeOf(names, streams);
    await a.open();
    const s1 = await publish('applied-later');
    a.noteConsumed(s1, 1, 1);
    await a.checkpoint({ twins: [], removed: [], pending: [], truncateBelow: 1, nextPos: 2 });
    await publish('past-the-checkpoint');
    await a.close();
    const b = storeOf(names, streams, { readTail: false });
    await b.open();
    expect((await collect(b.readLog(0))).map((r) => r.envelopes[0]!.id)).toEqual(['applied-later']);
    expect(b.nextLogSeq).toBe(s1 + 1);
    await b.close();
  });

  it('keeps a pending twin-to-twin record that is also in the stream only once', async () => {
    const { names, streams } = await fresh();
    const a = storeOf(names, streams);
    await a.open();
    const s = (
      await streams.js.publish(names.logSubject(7), encodeRecord({ groups: [{ source: null, envelopes: [{ model: 'm', id: 'b', message: 'hi' }] }], hops: 1 }))
    ).seq;
    a.noteConsumed(s, 4, 1);
    const internal: LogRecord = { pos: 4, envelopes: [{ model: 'm', id: 'b', message: 'hi' }], hops: 1, source: null };
    await a.checkpoint({ twins: [], removed: [], pending: [internal], truncateBelow: 4, nextPos: 5 });
    await a.close();
    const b = storeOf(names, streams);
    await b.open();
    expect(await collect(b.readLog(0))).toHaveLength(1);
    await b.close();
  });
});
