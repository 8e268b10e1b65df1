/**
 * Sinks (SINKS_FILE) against a real server over real sockets: a webhook that is down while the
 * server is killed with -9 and restarted still gets every event afterwards; PostgreSQL gets the
 * latest state of every twin and the alerts its filter passes; NDJSON files rotate by size.
 */
import http from 'node:http';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureEnv, range } from '../kit/fixtures.js';
import { metric } from '../kit/metrics.js';
import { freePort } from '../kit/ports.js';
import { postMessages } from '../kit/rest-client.js';
import { startServer, type ServerHandle } from '../kit/server.js';
import { openPg, pgUrl, requirePostgres } from '../../server/test/sinks/pg.js';
import { signBody } from '../../server/src/connectors/webhook-sender.js';

const verified = (secret: string, header: string | string[] | undefined, body: string): boolean => {
  const t = /^t=(\d+),v1=/.exec(String(header))?.[1];
  return t !== undefined && header === signBody(secret, Number(t), body);
};

interface Ev {
  kind: string;
  eventId: string;
  v: number;
  id?: string;
  twinId?: string;
  severity?: string;
  state?: { count: number };
}

async function until(what: string, pred: () => Promise<boolean> | boolean, ms = 45_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${await diagnosis()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** What a timeout message shows: each sink's counters and the server's sink log lines. */
async function diagnosis(): Promise<string> {
  const lines: string[] = [];
  for (const sink of ['hook', 'db', 'files'])
    for (const name of ['hextwin_sink_queue_depth', 'hextwin_sink_delivered_total', 'hextwin_sink_failed_total'])
      lines.push(`${name}{sink="${sink}"} ${await metric(server.url, name, { sink }).catch((e: Error) => e.message)}`);
  lines.push(...server.output().split('\n').filter((l) => l.includes('sink')).slice(-20));
  const rows = await admin
    .query(`SELECT event_id, payload->'state'->'count' AS count FROM "${schema}".events ORDER BY event_id`)
    .then((r) => r.rows.map((x: { event_id: string; count: number | null }) => `${x.event_id} count=${x.count}`).join(', '))
    .catch((e: Error) => e.message);
  lines.push(`PostgreSQL rows: ${rows}`);
  return lines.join('\n');
}

const TWINS = range(10).map((i) => `p${i}`);
const schema = `sinks_it_${process.pid}_${Date.now()}`;
let admin: Awaited<ReturnType<typeof openPg>>;
let server: ServerHandle;
let hookPort: number;
let filesDir: string;
const received: Ev[] = [];
let badSignatures = 0;
const receiver = http.createServer((req, res) => {
  let body = '';
  req.on('data', (d) => (body += d));
  req.on('end', () => {
    if (!verified('hook-key', req.headers['x-hextwin-signature'], body)) badSignatures++;
    received.push(...(JSON.parse(body) as { events: Ev[] }).events);
    res.writeHead(200).end();
  });
});

beforeAll(async () => {
  await requirePostgres();
  admin = await openPg();
  await admin.query(`CREATE SCHEMA "${schema}"`);
  hookPort = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'hextwin-sinks-'));
  filesDir = path.join(dir, 'files');
  const file = path.join(dir, 'sinks.json');
  writeFileSync(
    file,
    JSON.stringify([
      { type: 'webhook', name: 'hook', url: `http://127.0.0.1:${hookPort}/events`, secret: 'hook-key', retryBaseMs: 20, retryMaxMs: 200 },
      {
        type: 'postgres',
        name: 'db',
        url: pgUrl,
        table: `${schema}.events`,
        models: ['probe'],
        minSeverity: 'ERROR',
        retryBaseMs: 20,
        retryMaxMs: 500,
      },
      { type: 'ndjson', name: 'files', dir: filesDir, maxBytes: 1024, events: ['twinChanged'] },
    ]),
  );
  server = await startServer({ env: { ...fixtureEnv, SINKS_FILE: file } });
});

afterAll(async () => {
  await server?.stop();
  receiver.close();
  await admin?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await admin?.end();
});

describe('Sinks', () => {
  it('should deliver every event queued for a sink that was down across a kill -9 and restart, once it comes up', async () => {
    for (let round = 1; round <= 3; round++) for (const id of TWINS) await postMessages(server.url, 'probe', id, [{ seq: round }]);
    await postMessages(server.url, 'probe', 'p0', [{ op: 'alert', severity: 'WARNING', tag: 'warm' }]);
    await postMessages(server.url, 'probe', 'p1', [{ op: 'alert', severity: 'CRITICAL', tag: 'fire' }]);
    // at least one state change per twin (conflation may merge a twin's three) and two alerts wait for the webhook
    await until(
      'the webhook queue to hold every twin and both alerts',
      async () => (await metric(server.url, 'hextwin_sink_queue_depth', { sink: 'hook' })) >= 12,
    );
    await until('a failed webhook attempt', async () => (await metric(server.url, 'hextwin_sink_failed_total', { sink: 'hook' })) > 0);

    await server.kill();
    server = await server.restart();
    await new Promise<void>((r) => receiver.listen(hookPort, '127.0.0.1', r));

    const latest = () => {
      const best = new Map<string, number>();
      for (const e of received) if (e.kind === 'twinChanged') best.set(e.id!, Math.max(best.get(e.id!) ?? 0, e.state!.count));
      return best;
    };
    await until('the webhook to get every twin at its latest state and both alerts', () => {
      const alerts = received.filter((e) => e.kind === 'alert').map((e) => e.severity);
      return TWINS.every((id) => latest().get(id) === 3) && alerts.includes('WARNING') && alerts.includes('CRITICAL');
    });
    expect(badSignatures).toBe(0);
    expect(received.every((e) => e.v === 1 && typeof e.eventId === 'string')).toBe(true);
    await until('the webhook queue to drain', async () => (await metric(server.url, 'hextwin_sink_queue_depth', { sink: 'hook' })) === 0);
    expect(await metric(server.url, 'hextwin_sink_delivered_total', { sink: 'hook' })).toBeGreaterThanOrEqual(12);
    expect(await metric(server.url, 'hextwin_sink_lag_seconds', { sink: 'hook' })).toBe(0);
  });

  it('should keep the latest state of each twin and only the alerts its filter passes in PostgreSQL', async () => {
    const rows = async () =>
      (await admin.query(`SELECT kind, twin_id, payload FROM "${schema}".events`)).rows as { kind: string; twin_id: string; payload: Ev }[];
    await until('PostgreSQL to hold every twin at its latest state', async () => {
      const r = await rows();
      return TWINS.every((id) => r.some((x) => x.kind === 'twinChanged' && x.twin_id === id && x.payload.state!.count === 3));
    });
    const alerts = (await rows()).filter((x) => x.kind === 'alert');
    // the restart replays messages applied after the last checkpoint, and a replayed alert gets a new id: at least one
    expect(alerts.length).toBeGreaterThan(0);
    expect(new Set(alerts.map((a) => a.payload.severity))).toEqual(new Set(['CRITICAL']));
    expect(new Set((await rows()).map((r) => r.payload.eventId)).size).toBe((await rows()).length);
  });

  it('should rotate NDJSON files by size and keep every line a whole event', async () => {
    await until('NDJSON to hold every twin at its latest state', () => {
      const lines = readdirSync(filesDir).flatMap((f) => readFileSync(path.join(filesDir, f), 'utf8').split('\n').filter(Boolean));
      const evs = lines.map((l) => JSON.parse(l) as Ev);
      return TWINS.every((id) => evs.some((e) => e.id === id && e.state!.count === 3));
    });
    const files = readdirSync(filesDir);
    expect(files).toContain('events.ndjson');
    expect(files.filter((f) => /^events-.+\.ndjson$/.test(f)).length).toBeGreaterThan(0);
    for (const f of files) {
      const text = readFileSync(path.join(filesDir, f), 'utf8');
      expect(text.endsWith('\n')).toBe(true);
      expect(Buffer.byteLength(text)).toBeLessThanOrEqual(1024 + 2048);
    }
  });
});
