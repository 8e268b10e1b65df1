import http from 'node:http';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';
import { runSinkContract } from '../contracts/sink-contract.js';
import { startNats } from '../../../test/kit/nats.js';
import { NatsSink } from '../../src/sinks/nats-sink.js';
import { NdjsonSink } from '../../src/sinks/ndjson-sink.js';
import { WebhookSink } from '../../src/sinks/webhook-sink.js';
import { signBody } from '../../src/connectors/webhook-sender.js';
import { PostgresSink } from '../../src/sinks/postgres-sink.js';
import type { SinkEvent } from '../../src/sinks/events.js';
import { pgUrl, requirePostgres } from './pg.js';

const verified = (secret: string, header: string | string[] | undefined, body: string): boolean => {
  const t = /^t=(\d+),v1=/.exec(String(header))?.[1];
  return t !== undefined && header === signBody(secret, Number(t), body);
};

const common = {
  events: ['twinChanged', 'alert', 'geofence'] as const,
  models: null,
  minSeverity: 'INFO' as const,
  batchSize: 100,
  maxQueue: 1000,
  retryBaseMs: 10,
  retryMaxMs: 100,
  timeoutMs: 5_000,
};

runSinkContract('nats', async () => {
  const nats = await startNats();
  const nc = await connect({ servers: nats.url });
  const got: SinkEvent[] = [];
  // a callback runs as the message is parsed, so it has run before the flush after it resolves
  nc.subscribe('contract.>', { callback: (_err, m) => void got.push(m.json<SinkEvent>()) });
  await nc.flush();
  const sink = new NatsSink({ ...common, events: [...common.events], name: 'n', type: 'nats', url: nats.url, subject: 'contract' });
  return {
    sink,
    async received() {
      await nc.flush();
      return got;
    },
    async cleanup() {
      await nc.close();
      await nats.cleanup();
    },
  };
});

runSinkContract('ndjson', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'hextwin-ndjson-'));
  const sink = new NdjsonSink({
    ...common,
    events: [...common.events],
    name: 'f',
    type: 'ndjson',
    dir,
    file: 'events',
    maxBytes: 1024 ** 2,
    maxAgeMs: 3_600_000,
    keepFiles: 0,
  });
  return {
    sink,
    received: async () =>
      readdirSync(dir)
        .sort((a, b) => (a === 'events.ndjson' ? 1 : b === 'events.ndjson' ? -1 : a.localeCompare(b)))
        .flatMap((f) => readFileSync(path.join(dir, f), 'utf8').split('\n').filter(Boolean))
        .map((l) => JSON.parse(l) as SinkEvent),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

runSinkContract('webhook', async () => {
  const got: SinkEvent[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      if (!verified('s3cret', req.headers['x-hextwin-signature'], body)) {
        res.writeHead(401).end();
        return;
      }
      got.push(...(JSON.parse(body) as { events: SinkEvent[] }).events);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const sink = new WebhookSink({
    ...common,
    events: [...common.events],
    name: 'w',
    type: 'webhook',
    url: `http://127.0.0.1:${port}/hook`,
    headers: {},
    secret: 's3cret',
  });
  return { sink, received: async () => got, cleanup: () => new Promise<void>((r) => server.close(() => r())) };
});

runSinkContract('postgres', async () => {
  await requirePostgres();
  const schema = `sink_contract_${process.pid}_${Date.now()}`;
  const admin = new pg.Client({ connectionString: pgUrl });
  await admin.connect();
  await admin.query(`CREATE SCHEMA "${schema}"`);
  const sink = new PostgresSink({ ...common, events: [...common.events], name: 'p', type: 'postgres', url: pgUrl, table: `${schema}.events` });
  return {
    sink,
    received: async () =>
      (await admin.query(`SELECT payload FROM "${schema}".events ORDER BY at, event_id`)).rows.map((r: { payload: SinkEvent }) => r.payload),
    async cleanup() {
      await admin.query(`DROP SCHEMA "${schema}" CASCADE`);
      await admin.end();
    },
  };
});
