/**
 * The quarantine side of `hextwin check` / `repair` on a real LMDB data directory: a torn watchdog
 * note and a quarantine record without a twin are reported, and repair moves both aside.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { WATCHDOG_NOTE } from '../../src/engine/watchdog.js';
import { LmdbStore } from '../../src/store/lmdb-store.js';
import { checkDataDir } from '../../src/tools/store-check.js';
import { repairDataDir } from '../../src/tools/store-repair.js';

async function dataDir(quarantine: Record<string, unknown>): Promise<string> {
  const dir = mkdtempSync(path.join(tmpdir(), 'hextwin-check-'));
  const store = new LmdbStore(dir);
  await store.open();
  await store.append({ pos: 1, envelopes: [{ model: 'm', id: 'a', message: { v: 1 } }] });
  const table = store.table<unknown>('quarantine');
  for (const [k, v] of Object.entries(quarantine)) table.put(k, v);
  await store.close();
  return dir;
}

describe('hextwin check: quarantine files and records', () => {
  it('reports a torn watchdog note and a quarantine record without a twin id', async () => {
    const dir = await dataDir({ 'm/ok': { model: 'm', id: 'ok', code: 'MODEL_TIMEOUT', reason: 'hung', at: 1 }, 'm/bad': { model: 'm' } });
    writeFileSync(path.join(dir, WATCHDOG_NOTE), '{"model":"m","id":');
    const { report } = await checkDataDir(dir);
    expect(report).toMatchObject({
      store: 'ok',
      ok: false,
      badTotal: 2,
      counts: { 'table:quarantine': { records: 2, bad: 1 }, [`file:${WATCHDOG_NOTE}`]: { records: 1, bad: 1 }, log: { records: 1, bad: 0 } },
    });
    expect(report.bad).toEqual(
      expect.arrayContaining([
        { db: 'table:quarantine', key: 'm/bad', reason: expect.stringContaining('not a quarantine record') },
        { db: 'file', key: WATCHDOG_NOTE, reason: expect.stringContaining('does not parse') },
      ]),
    );
  });

  it('accepts a well-formed watchdog note', async () => {
    const dir = await dataDir({});
    writeFileSync(path.join(dir, WATCHDOG_NOTE), JSON.stringify({ model: 'm', id: 'a', code: 'MODEL_TIMEOUT', reason: 'hung', at: 1 }));
    expect((await checkDataDir(dir)).report).toMatchObject({ ok: true, counts: { [`file:${WATCHDOG_NOTE}`]: { records: 1, bad: 0 } } });
  });

  it('repair moves the note and the record aside and keeps the good quarantine record', async () => {
    const dir = await dataDir({ 'm/ok': { model: 'm', id: 'ok', code: 'MODEL_TIMEOUT', reason: 'hung', at: 1 }, 'm/bad': 42 });
    writeFileSync(path.join(dir, WATCHDOG_NOTE), 'not json');
    const result = await repairDataDir(dir, pino({ level: 'silent' }), new Date('2030-01-02T03:04:05.678Z'));
    expect(result).toMatchObject({
      ok: true,
      quarantineDir: path.join(dir, 'quarantine-2030-01-02T03-04-05-678Z'),
      after: { ok: true, counts: { 'table:quarantine': { records: 1, bad: 0 } } },
    });
    expect(existsSync(path.join(dir, WATCHDOG_NOTE))).toBe(false);
    expect(readFileSync(path.join(result.quarantineDir!, WATCHDOG_NOTE), 'utf8')).toBe('not json');
    const manifest = JSON.parse(readFileSync(path.join(result.quarantineDir!, 'manifest.json'), 'utf8'));
    expect(manifest.records.map((r: { db: string; key: string }) => `${r.db} ${r.key}`).sort()).toEqual([
      'file watchdog-quarantine.json',
      'table:quarantine m/bad',
    ]);

    const store = new LmdbStore(dir);
    await store.open();
    try {
      expect([...store.table('quarantine').entries()].map(([k]) => k)).toEqual(['m/ok']);
    } finally {
      await store.close();
    }
  });
});
