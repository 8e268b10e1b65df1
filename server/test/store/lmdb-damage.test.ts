/**
 * A record damaged on disk stops the LMDB store's readers with STORE_DAMAGED naming the record
 * and the repair tool, where it used to end the start with a decoder's stack trace.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { open } from 'lmdb';
import { describe, expect, it } from 'vitest';
import { DB, TABLE_PREFIX, lmdbEnvOptions } from '../../src/store/lmdb-layout.js';
import { LmdbStore } from '../../src/store/lmdb-store.js';

const NOT_MSGPACK = Buffer.from([0xc1, 0x00, 0xff]);

async function overwrite(dir: string, name: string, key: string | number, bytes: Buffer): Promise<void> {
  const env = open(lmdbEnvOptions(dir));
  const db = env.openDB<Buffer, string | number>({ name, encoding: 'binary', ...(name === DB.log.name ? { keyEncoding: DB.log.keyEncoding } : {}) });
  await db.put(key, bytes);
  await env.close();
}

async function written(): Promise<string> {
  const dir = mkdtempSync(path.join(tmpdir(), 'hextwin-lmdb-damage-'));
  const store = new LmdbStore(dir);
  await store.open();
  for (const pos of [1, 2, 3]) await store.append({ pos, envelopes: [{ model: 'm', id: `t${pos}`, message: { v: pos } }] });
  await store.checkpoint({
    twins: [{ model: 'm', id: 'a', state: {}, lastPos: 0, createdAt: 1, updatedAt: 1, version: 1 }],
    removed: [],
    pending: [],
    truncateBelow: 0,
    nextPos: 4,
  });
  store.table<{ n: number }>('notes').put('k', { n: 1 });
  await store.close();
  return dir;
}

async function reopened(dir: string): Promise<LmdbStore> {
  const store = new LmdbStore(dir);
  await store.open();
  return store;
}

async function drain<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('LmdbStore on a damaged data directory', () => {
  it('names the log position whose record does not decode', async () => {
    const dir = await written();
    await overwrite(dir, DB.log.name, 2, NOT_MSGPACK);
    const store = await reopened(dir);
    try {
      await expect(drain(store.readLog(0))).rejects.toMatchObject({
        code: 'STORE_DAMAGED',
        message: expect.stringMatching(/position 2 cannot be read.*pnpm hextwin check/),
      });
      // past the damage, the log reads again
      expect((await drain(store.readLog(3))).map((r) => r.pos)).toEqual([3]);
    } finally {
      await store.close();
    }
  });

  it('names the first log record when that one is damaged', async () => {
    const dir = await written();
    await overwrite(dir, DB.log.name, 1, NOT_MSGPACK);
    const store = await reopened(dir);
    try {
      await expect(drain(store.readLog(0))).rejects.toMatchObject({ code: 'STORE_DAMAGED', message: expect.stringContaining('position 1 cannot be read') });
    } finally {
      await store.close();
    }
  });

  it('names the twin whose checkpoint does not decode', async () => {
    const dir = await written();
    await overwrite(dir, DB.twins.name, 'm/a', NOT_MSGPACK);
    const store = await reopened(dir);
    try {
      await expect(drain(store.loadTwins())).rejects.toMatchObject({ code: 'STORE_DAMAGED', message: expect.stringContaining('twin "m/a" cannot be read') });
    } finally {
      await store.close();
    }
  });

  it('names the table record that does not decode when the table is opened', async () => {
    const dir = await written();
    await overwrite(dir, TABLE_PREFIX + 'notes', 'k', NOT_MSGPACK);
    const store = await reopened(dir);
    try {
      expect(() => store.table('notes')).toThrow(/table notes: record "k" cannot be read/);
    } finally {
      await store.close();
    }
  });
});
