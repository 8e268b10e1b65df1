/**
 * `hextwin repair`: moves every record `check` finds unusable out of the store into
 * DATA_DIR/quarantine-<time>/ — the record's bytes, one file each, and a manifest.json naming
 * database, key and reason — so nothing is silently deleted and the server starts without them.
 * The files are on disk (fsync) before the records leave the store, in one LMDB transaction.
 * Refused while a process has the store open.
 */
import { HextwinError } from '@hextwin/shared';
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { WATCHDOG_NOTE } from '../engine/watchdog.js';
import { checkDataDir, inspect, openStore, rawDb, type CheckReport, type Problem } from './store-check.js';
import { storeHolders } from './store-holders.js';

export interface MovedRecord extends Problem {
  /** file name inside the quarantine directory */
  file: string;
  bytes: number;
}

export interface RepairReport {
  dataDir: string;
  /** the directory the records went to; undefined when nothing had to move */
  quarantineDir?: string;
  moved: MovedRecord[];
  /** the check after the repair */
  after: CheckReport;
  ok: boolean;
}

function writeDurably(file: string, data: Uint8Array | string): void {
  const fd = openSync(file, 'wx', 0o600);
  try {
    writeFileSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

const fileSafe = (s: string): string => s.replace(/[^A-Za-z0-9._-]+/g, '-');

export async function repairDataDir(dataDir: string, log: Logger, now = new Date()): Promise<RepairReport> {
  const before = await checkDataDir(dataDir);
  if (before.report.heldBy.length) {
    throw new HextwinError(
      'DATA_DIR_IN_USE',
      `process ${before.report.heldBy.join(', ')} has the store in ${dataDir} open: stop the server first (check is safe while it runs; repair is not)`,
      {
        details: { pids: before.report.heldBy },
      },
    );
  }
  if (before.report.store !== 'ok') return { dataDir, moved: [], after: before.report, ok: false };
  if (!before.problems.length) {
    log.info({ dataDir }, 'nothing to repair');
    return { dataDir, moved: [], after: before.report, ok: true };
  }

  const env = openStore(dataDir, false);
  const moved: MovedRecord[] = [];
  let quarantineDir: string;
  try {
    // the held-by test again on the writable environment: a server may have started meanwhile
    const holders = storeHolders(env);
    if (holders.length)
      throw new HextwinError('DATA_DIR_IN_USE', `process ${holders.join(', ')} has the store in ${dataDir} open: stop the server first`, {
        details: { pids: holders },
      });
    const { problems } = inspect(env, dataDir);
    quarantineDir = path.join(dataDir, `quarantine-${now.toISOString().replace(/[:.]/g, '-')}`);
    mkdirSync(quarantineDir, { recursive: false, mode: 0o700 });
    log.info({ dir: quarantineDir, records: problems.length }, 'moving unreadable records aside');

    const inStore = problems.filter((p) => p.db !== 'file');
    inStore.forEach((p, i) => {
      const bytes = rawDb(env, p.db).getBinary(p.key) ?? Buffer.alloc(0);
      const file = `${String(i + 1).padStart(4, '0')}-${fileSafe(p.db)}.bin`;
      writeDurably(path.join(quarantineDir, file), bytes);
      moved.push({ ...p, file, bytes: bytes.length });
      log.info({ n: i + 1, of: problems.length, db: p.db, key: p.key, reason: p.reason, file }, 'copied aside');
    });
    for (const p of problems.filter((p) => p.db === 'file')) {
      renameSync(path.join(dataDir, WATCHDOG_NOTE), path.join(quarantineDir, WATCHDOG_NOTE));
      moved.push({ ...p, file: WATCHDOG_NOTE, bytes: 0 });
      log.info({ file: WATCHDOG_NOTE, reason: p.reason }, 'moved aside');
    }
    writeDurably(path.join(quarantineDir, 'manifest.json'), JSON.stringify({ dataDir, at: now.toISOString(), records: moved }, null, 2) + '\n');
    syncDir(quarantineDir);
    syncDir(dataDir);

    // only now, with every byte on disk elsewhere, do the records leave the store
    await env.transaction(() => {
      for (const p of inStore) void rawDb(env, p.db).remove(p.key);
    });
    await env.flushed;
    log.info({ removed: inStore.length }, 'removed from the store');
  } finally {
    await env.close();
  }
  const after = (await checkDataDir(dataDir)).report;
  return { dataDir, quarantineDir, moved, after, ok: after.ok };
}
