/**
 * `pnpm hextwin check` / `repair` on a data directory written by a real server: records damaged
 * while it was down stop the next start with STORE_DAMAGED; check names them (exit 1), repair moves
 * them into DATA_DIR/quarantine-<time>/ with their bytes and a manifest, and the server starts again
 * and serves every other twin. Repair refuses while a server has the store open.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { open } from 'lmdb';
import { afterAll, describe, expect, it } from 'vitest';
import { DB, lmdbEnvOptions } from '@hextwin/server/store/lmdb-layout';
import { gql } from '../graphql/helpers.js';
import { fixtureEnv } from '../kit/fixtures.js';
import { postMessages, report } from '../kit/rest-client.js';
import { repoRoot, startServer, tsxLoader, type ServerHandle } from '../kit/server.js';

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout parsed: the tool's summary */
  summary: any;
}

function hextwin(command: string, dataDir: string): Promise<CliRun> {
  const child = spawn(process.execPath, ['--import', tsxLoader, path.join(repoRoot, 'server/src/tools/hextwin-cli.ts'), command], {
    cwd: repoRoot,
    env: { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) =>
    child.once('close', (code) => {
      let summary: unknown = null;
      try {
        summary = JSON.parse(stdout);
      } catch {
        // no summary (usage error, refusal): stderr says why
      }
      resolve({ code, stdout, stderr, summary });
    }),
  );
}

const TORN_BODY = Buffer.from('{"seq":');
const NOT_MSGPACK = Buffer.from([0xc1, 0x00, 0xff]);

/**
 * Damage two records while no server runs: twin probe/b's checkpoint becomes bytes that are not
 * msgpack, and the log record of e's only message keeps its framing but loses half its body.
 */
async function damage(dataDir: string): Promise<number> {
  const env = open(lmdbEnvOptions(dataDir));
  const twins = env.openDB<Buffer, string>({ ...DB.twins });
  const log = env.openDB<any, number>({ ...DB.log });
  expect(twins.get('probe/b')).toBeDefined();
  const [e] = [...log.getRange()].filter(({ value }) => value.raw?.id === 'e');
  expect(e, 'the log holds e’s message').toBeDefined();
  await twins.put('probe/b', NOT_MSGPACK);
  await log.put(e!.key, { ...e!.value, raw: { ...e!.value.raw, bytes: TORN_BODY } });
  await env.close();
  return e!.key;
}

let server: ServerHandle | undefined;
afterAll(async () => {
  await server?.stop();
});

describe('hextwin check and repair', () => {
  it('finds damaged records, moves them aside, and the server starts again serving the other twins', async () => {
    // a checkpoint with a, b, c (graceful stop), then d, e and a second b message only in the log (kill -9)
    server = await startServer({ env: fixtureEnv });
    const dataDir = server.dataDir;
    for (const id of ['a', 'b', 'c']) await postMessages(server.url, 'probe', id, { seq: 1 });
    await server.stop();
    server = await startServer({ dataDir, env: { ...fixtureEnv, CHECKPOINT_MS: '3600000' } });
    for (const id of ['d', 'e']) await postMessages(server.url, 'probe', id, { seq: 1 });
    await postMessages(server.url, 'probe', 'b', { seq: 2 });
    await server.kill();
    server = undefined;

    const clean = await hextwin('check', dataDir);
    expect(clean.code, clean.stderr).toBe(0);
    expect(clean.summary).toMatchObject({ store: 'ok', ok: true, badTotal: 0, counts: { twins: { records: 3, bad: 0 }, log: { bad: 0 } } });
    expect(clean.summary.counts.log.records).toBeGreaterThanOrEqual(3);

    const ePos = await damage(dataDir);
    await expect(startServer({ dataDir, env: fixtureEnv, readyTimeoutMs: 20_000 })).rejects.toThrow(/STORE_DAMAGED.*pnpm hextwin check/s);

    const found = await hextwin('check', dataDir);
    expect(found.code).toBe(1);
    expect(found.summary).toMatchObject({ store: 'ok', ok: false, badTotal: 2, counts: { twins: { records: 3, bad: 1 }, log: { bad: 1 } } });
    expect(found.summary.bad).toEqual(
      expect.arrayContaining([
        { db: 'twins', key: 'probe/b', reason: expect.stringContaining('does not decode') },
        { db: 'log', key: ePos, reason: expect.stringContaining('request body does not parse') },
      ]),
    );
    expect(found.stderr).toContain('pnpm hextwin repair');

    const repaired = await hextwin('repair', dataDir);
    expect(repaired.code, repaired.stderr).toBe(0);
    expect(repaired.summary).toMatchObject({ ok: true, after: { ok: true, badTotal: 0 } });
    expect(repaired.stderr).toContain('copied aside');
    const dir: string = repaired.summary.quarantineDir;
    expect(path.dirname(dir)).toBe(dataDir);
    expect(path.basename(dir)).toMatch(/^quarantine-\d{4}-\d\d-\d\dT/);
    const manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
    expect(manifest.records).toHaveLength(2);
    const twinFile = manifest.records.find((r: any) => r.db === 'twins');
    const logFile = manifest.records.find((r: any) => r.db === 'log');
    expect(twinFile).toMatchObject({ key: 'probe/b' });
    expect(logFile).toMatchObject({ key: ePos });
    // nothing silently deleted: the bytes as they were in the store
    expect(readFileSync(path.join(dir, twinFile.file))).toEqual(NOT_MSGPACK);
    expect(readFileSync(path.join(dir, logFile.file)).includes(TORN_BODY)).toBe(true);
    expect(readdirSync(dir).sort()).toEqual([twinFile.file, logFile.file, 'manifest.json'].sort());

    expect((await hextwin('check', dataDir)).code).toBe(0);

    server = await startServer({ dataDir, env: fixtureEnv });
    for (const id of ['a', 'c', 'd']) expect((await report(server.url, 'probe', id)).seqs, id).toEqual([1]);
    // b's checkpoint went aside: the twin starts anew from the message logged after it
    expect((await report(server.url, 'probe', 'b')).seqs).toEqual([2]);
    // e's only message went aside: no twin e
    const e = await gql(server.url, '{ twin(model: "probe", id: "e") { id } }');
    expect(e.body).toEqual({ data: { twin: null } });
  });

  it('refuses to repair while a server has the store open, and checks it read-only meanwhile', async () => {
    server = await startServer({ env: fixtureEnv });
    await postMessages(server.url, 'probe', 'a', { seq: 1 });

    const checked = await hextwin('check', server.dataDir);
    expect(checked.code, checked.stderr).toBe(0);
    expect(checked.summary.heldBy).toContain(server.pid);

    const refused = await hextwin('repair', server.dataDir);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('DATA_DIR_IN_USE');
    expect(refused.stderr).toContain(String(server.pid));
    expect(readdirSync(server.dataDir).filter((f) => f.startsWith('quarantine-'))).toEqual([]);
    // the server is untouched
    expect((await report(server.url, 'probe', 'a')).seqs).toEqual([1]);

    await server.stop();
    const idle = await hextwin('repair', server.dataDir);
    expect(idle.code, idle.stderr).toBe(0);
    expect(idle.summary).toMatchObject({ ok: true, moved: [] });
    expect(existsSync(path.join(server.dataDir, 'hextwin.lmdb'))).toBe(true);
    server = undefined;
  });
});
