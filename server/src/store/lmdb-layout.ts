/**
 * Where and how the LMDB store keeps things in DATA_DIR: the environment file, its named
 * databases and their encodings, and the twin record codec. The store and the repair tool
 * (server/src/tools/) read the same layout; lmdb-checkpoint-worker.mjs repeats the names (plain JS).
 */
import path from 'node:path';
import { Packr } from 'msgpackr';
import type { StoredTwin } from './store.js';

export const LMDB_FILE = 'hextwin.lmdb';

export const lmdbPath = (dataDir: string): string => path.join(dataDir, LMDB_FILE);

/** Environment options shared by the main thread, the checkpoint thread and the tools. */
export const lmdbEnvOptions = (dataDir: string) => ({ path: lmdbPath(dataDir), maxDbs: 32, mapSize: 2 * 1024 ** 3 });

/** The named databases: the log keyed by position (msgpack LogRecord), twins by `model/id` (binary). */
export const DB = {
  log: { name: 'log', keyEncoding: 'uint32', encoding: 'msgpack' },
  twins: { name: 'twins', encoding: 'binary' },
  tombstones: { name: 'tombstones', encoding: 'msgpack' },
  meta: { name: 'meta', encoding: 'msgpack' },
} as const;

/** A small durable table (alerts, commands, quarantine, ...) lives in `table:<name>` (msgpack). */
export const TABLE_PREFIX = 'table:';

const twinPackr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false });

export function encodeStoredTwin(twin: StoredTwin): Uint8Array {
  return twinPackr.pack(twin);
}

/** Decodes a twin record; throws when the bytes are not msgpack. */
export function decodeStoredTwin(bytes: Uint8Array): StoredTwin {
  return twinPackr.unpack(bytes) as StoredTwin;
}
