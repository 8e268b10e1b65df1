/**
 * The contract every TwinStore implementation passes (memory, lmdb, the cluster's NATS store).
 * Each implementation's test is a few lines: `runStoreContract('lmdb', () => new LmdbStore(dir))`.
 * `reopen` must return a store over the same durable data (a restart).
 */
import { describe, expect, it } from 'vitest';
import type { LogRecord, StoredTwin, TwinStore } from '../../src/store/store.js';

export interface StoreFactory {
  /** a fresh, empty store */
  create(): Promise<{ store: TwinStore; reopen: () => Promise<TwinStore> }>;
}

const twin = (id: string, lastPos: number, state: unknown = { v: lastPos }): StoredTwin => ({
  model: 'm',
  id,
  state,
  lastPos,
  createdAt: 1,
  updatedAt: 2,
  version: 1,
  timers: [{ name: 'tick', due: 99, every: 10 }],
  source: { connector: 'rest' },
  lastError: null,
});

const rec = (pos: number, n = 1): LogRecord => ({
  pos,
  envelopes: Array.from({ length: n }, (_, i) => ({ model: 'm', id: `t${i}`, message: { i, pos } })),
  source: { connector: 'ws', connection: 'c1' },
});

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

export function runStoreContract(name: string, factory: StoreFactory): void {
  describe(`TwinStore contract: ${name}`, () => {
    it('starts empty', async () => {
      const { store } = await factory.create();
      await store.open();
      expect(await store.loadMeta()).toBeUndefined();
      expect(await collect(store.loadTwins())).toEqual([]);
      expect(await collect(store.readLog(0))).toEqual([]);
      await store.close();
    });

    it('reads back appended log records in position order from a position', async () => {
      const { store } = await factory.create();
      await store.open();
      await store.append(rec(1, 3));
      await store.append(rec(4, 2));
      await store.append(rec(6, 1));
      expect((await collect(store.readLog(4))).map((r) => r.pos)).toEqual([4, 6]);
      expect((await collect(store.readLog(0)))[0]).toEqual(rec(1, 3));
      await store.close();
    });

    it('gives back the envelopes of a batch appended as the bytes it arrived in, across a reopen', async () => {
      const { store, reopen } = await factory.create();
      await store.open();
      const body = Buffer.from('[{"t":1},{"t":2,"s":"x\\u00e9"}]');
      const bulk = Buffer.from('{"model":"m","id":"b","message":{"k":1}}\n\n{"model":"n","id":"c","message":[1,2]}\n');
      await store.append({
        pos: 1,
        envelopes: [
          { model: 'm', id: 'a', message: { t: 1 } },
          { model: 'm', id: 'a', message: { t: 2, s: 'xé' } },
        ],
        source: null,
        raw: { format: 'messages', model: 'm', id: 'a', bytes: body },
      });
      await store.append({
        pos: 3,
        envelopes: [
          { model: 'm', id: 'b', message: { k: 1 } },
          { model: 'n', id: 'c', message: [1, 2] },
        ],
        source: null,
        raw: { format: 'envelopes', ndjson: true, bytes: bulk },
      });
      await store.close();
      const again = await reopen();
      await again.open();
      const got = await collect(again.readLog(0));
      expect(got.map((r) => r.envelopes)).toEqual([
        [
          { model: 'm', id: 'a', message: { t: 1 } },
          { model: 'm', id: 'a', message: { t: 2, s: 'xé' } },
        ],
        [
          { model: 'm', id: 'b', message: { k: 1 } },
          { model: 'n', id: 'c', message: [1, 2] },
        ],
      ]);
      await again.close();
    });

    it('keeps appended records and checkpointed twins across a reopen', async () => {
      const { store, reopen } = await factory.create();
      await store.open();
      await store.append(rec(1, 2));
      await store.checkpoint({ twins: [twin('a', 1)], removed: [], pending: [], truncateBelow: 1, nextPos: 3 });
      await store.append(rec(3, 1));
      await store.close();
      const again = await reopen();
      await again.open();
      expect(await again.loadMeta()).toEqual({ nextPos: 3, truncateBelow: 1 });
      expect(await collect(again.loadTwins())).toEqual([twin('a', 1)]);
      expect((await collect(again.readLog(1))).map((r) => r.pos)).toEqual([1, 3]);
      await again.close();
    });

    it('truncates the log below the checkpoint position and keeps pending internal records', async () => {
      const { store } = await factory.create();
      await store.open();
      await store.append(rec(1));
      await store.append(rec(2));
      await store.append(rec(3));
      const internal: LogRecord = { pos: 4, envelopes: [{ model: 'm', id: 'b', message: 'hi' }], hops: 1, source: null };
      await store.checkpoint({ twins: [twin('a', 2)], removed: [], pending: [internal], truncateBelow: 3, nextPos: 5 });
      expect(await collect(store.readLog(0))).toEqual([rec(3), internal]);
      await store.close();
    });

    it('removes twins and keeps their tombstones until the log passes them', async () => {
      const { store } = await factory.create();
      await store.open();
      await store.checkpoint({ twins: [twin('a', 1), twin('b', 1)], removed: [], pending: [], truncateBelow: 1, nextPos: 2 });
      await store.checkpoint({ twins: [], removed: [{ model: 'm', id: 'a', lastPos: 5 }], pending: [], truncateBelow: 3, nextPos: 6 });
      expect((await collect(store.loadTwins())).map((t) => t.id)).toEqual(['b']);
      expect(await store.loadTombstones()).toEqual([{ model: 'm', id: 'a', lastPos: 5 }]);
      await store.checkpoint({ twins: [], removed: [], pending: [], truncateBelow: 6, nextPos: 6 });
      expect(await store.loadTombstones()).toEqual([]);
      await store.close();
    });

    it('captures twin state at the moment of the checkpoint call', async () => {
      const { store } = await factory.create();
      await store.open();
      const live = twin('a', 1, { n: 1 });
      const done = store.checkpoint({ twins: [live], removed: [], pending: [], truncateBelow: 1, nextPos: 2 });
      (live.state as { n: number }).n = 2;
      await done;
      expect((await collect(store.loadTwins()))[0]!.state).toEqual({ n: 1 });
      await store.close();
    });

    it('keeps durable tables across a reopen', async () => {
      const { store, reopen } = await factory.create();
      await store.open();
      const t = store.table<{ x: number }>('things');
      t.put('b', { x: 2 });
      t.put('a', { x: 1 });
      t.put('c', { x: 3 });
      t.delete('c');
      expect(t.get('a')).toEqual({ x: 1 });
      await store.flushed();
      await store.close();
      const again = await reopen();
      await again.open();
      expect([...again.table<{ x: number }>('things').entries()]).toEqual([
        ['a', { x: 1 }],
        ['b', { x: 2 }],
      ]);
      await again.close();
    });
  });
}
