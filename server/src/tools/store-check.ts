/**
 * `hextwin check`: opens DATA_DIR's store read-only and reads every record the server would read
 * at start — the log, the checkpointed twins, tombstones, the checkpoint meta, every table — plus
 * the watchdog's quarantine note, and reports what cannot be read. Safe while a server runs.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { open, type Database, type RootDatabase } from 'lmdb';
import { WATCHDOG_NOTE } from '../engine/watchdog.js';
import { DB, TABLE_PREFIX, decodeStoredTwin, lmdbEnvOptions, lmdbPath } from '../store/lmdb-layout.js';
import { storeHolders } from './store-holders.js';
import * as records from './store-records.js';

/** One record the server cannot use. `db` is an LMDB database name, or `file` for a file in DATA_DIR. */
export interface Problem {
  db: string;
  key: string | number;
  reason: string;
}

export interface CheckReport {
  dataDir: string;
  /** missing: no store in DATA_DIR; unreadable: LMDB itself refused (damage below the records) */
  store: 'ok' | 'missing' | 'unreadable';
  error?: string;
  /** pids of live processes that have the store open (a running server) */
  heldBy: number[];
  /** records read and records that cannot be used, per database (and `file:` entries) */
  counts: Record<string, { records: number; bad: number }>;
  badTotal: number;
  /** the first bad records (all of them are in `problems`) */
  bad: Problem[];
  ok: boolean;
}

export const FIRST_BAD = 20;

interface Inspection {
  report: CheckReport;
  problems: Problem[];
}

export function openStore(dataDir: string, readOnly: boolean): RootDatabase {
  return open({ ...lmdbEnvOptions(dataDir), readOnly });
}

/** Opens the database as bytes, so a value that does not decode can still be read and moved. */
export function rawDb(env: RootDatabase, name: string): Database<Buffer, string | number> {
  const keyEncoding = name === DB.log.name ? DB.log.keyEncoding : undefined;
  return env.openDB<Buffer, string | number>({ name, encoding: 'binary', ...(keyEncoding ? { keyEncoding } : {}) });
}

type RecordCheck = (key: string | number, value: unknown) => string | undefined;

const CHECKS: Record<string, RecordCheck> = {
  [DB.log.name]: records.logRecord,
  [DB.tombstones.name]: records.tombstone,
  [DB.meta.name]: records.meta,
  [TABLE_PREFIX + 'quarantine']: records.quarantineRecord,
};

/** How the server reads each database: its decoder and what a usable record looks like. */
function readerFor(env: RootDatabase, name: string): { decode: (key: string | number, raw: Buffer) => unknown; check: RecordCheck } {
  if (name === DB.twins.name) return { decode: (_key, raw) => decodeStoredTwin(raw), check: records.twinRecord };
  const opts = name === DB.log.name ? { ...DB.log } : { name, encoding: 'msgpack' as const };
  const db = env.openDB<unknown, string | number>(opts);
  return { decode: (key) => db.get(key), check: CHECKS[name] ?? records.anyValue };
}

/** The databases the server reads at start, as the environment lists them. */
function databases(env: RootDatabase): string[] {
  const known: string[] = [DB.log.name, DB.twins.name, DB.tombstones.name, DB.meta.name];
  const names = new Set<string>();
  for (const k of env.getKeys()) if (typeof k === 'string' && (known.includes(k) || k.startsWith(TABLE_PREFIX))) names.add(k);
  return [...names].sort();
}

function inspectDb(env: RootDatabase, name: string, problems: Problem[]): { records: number; bad: number } {
  const raw = rawDb(env, name);
  const { decode, check } = readerFor(env, name);
  let n = 0;
  let bad = 0;
  for (const key of raw.getKeys()) {
    n++;
    let reason: string | undefined;
    try {
      reason = check(key, decode(key, raw.get(key)!));
    } catch (e) {
      reason = `does not decode: ${(e as Error).message}`;
    }
    if (reason !== undefined) {
      bad++;
      problems.push({ db: name, key, reason });
    }
  }
  return { records: n, bad };
}

/** The watchdog's note: a small JSON file the server reads (and removes) at start. */
function inspectNote(dataDir: string, problems: Problem[]): { records: number; bad: number } | undefined {
  const file = path.join(dataDir, WATCHDOG_NOTE);
  if (!existsSync(file)) return undefined;
  let reason: string | undefined;
  try {
    reason = records.quarantineRecord(WATCHDOG_NOTE, JSON.parse(readFileSync(file, 'utf8')));
  } catch (e) {
    reason = `does not parse: ${(e as Error).message}`;
  }
  if (reason !== undefined) problems.push({ db: 'file', key: WATCHDOG_NOTE, reason });
  return { records: 1, bad: reason === undefined ? 0 : 1 };
}

/** Reads everything in an open environment; `env` may be read-only. */
export function inspect(env: RootDatabase, dataDir: string): Inspection {
  const problems: Problem[] = [];
  const counts: CheckReport['counts'] = {};
  let store: CheckReport['store'] = 'ok';
  let error: string | undefined;
  let heldBy: number[] = [];
  try {
    heldBy = storeHolders(env);
    for (const name of databases(env)) counts[name] = inspectDb(env, name, problems);
  } catch (e) {
    // LMDB's own structure (pages, the B-tree) is damaged: no record-level repair applies
    store = 'unreadable';
    error = (e as Error).message;
  }
  const note = inspectNote(dataDir, problems);
  if (note) counts['file:' + WATCHDOG_NOTE] = note;
  return { report: summary(dataDir, store, error, heldBy, counts, problems), problems };
}

function summary(
  dataDir: string,
  store: CheckReport['store'],
  error: string | undefined,
  heldBy: number[],
  counts: CheckReport['counts'],
  problems: Problem[],
): CheckReport {
  return {
    dataDir,
    store,
    ...(error === undefined ? {} : { error }),
    heldBy,
    counts,
    badTotal: problems.length,
    bad: problems.slice(0, FIRST_BAD),
    ok: store === 'ok' && problems.length === 0,
  };
}

/** `check`: inspects DATA_DIR read-only. */
export async function checkDataDir(dataDir: string): Promise<Inspection> {
  if (!existsSync(lmdbPath(dataDir))) return { report: summary(dataDir, 'missing', `no store at ${lmdbPath(dataDir)}`, [], {}, []), problems: [] };
  let env: RootDatabase;
  try {
    env = openStore(dataDir, true);
  } catch (e) {
    return { report: summary(dataDir, 'unreadable', (e as Error).message, [], {}, []), problems: [] };
  }
  try {
    return inspect(env, dataDir);
  } finally {
    await env.close();
  }
}
