/** The REST ingest API beyond the connector contract: bulk forms, the pull list, limits and errors. */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureEnv, range } from '../kit/fixtures.js';
import { metric } from '../kit/metrics.js';
import { ackCommands, postMessages, pullCommands, report, request, waitForCommand } from '../kit/rest-client.js';
import { startServer, type ServerHandle } from '../kit/server.js';

const MAX_BODY = 65_536;
const MAX_BATCH = 500;
const RATE = 2_000;
let server: ServerHandle;

beforeAll(async () => {
  server = await startServer({ env: { ...fixtureEnv, MAX_BODY_BYTES: String(MAX_BODY), MAX_BATCH: String(MAX_BATCH), RATE_LIMIT: String(RATE) } });
});
afterAll(async () => {
  await server?.stop();
});

/** A raw request on a given agent (to control which connection carries it). */
function raw(agent: http.Agent, method: string, path: string, body: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: any }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: server.port, method, path, agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text ? JSON.parse(text) : null }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('Ingest', () => {
  it('accepts one message object or an array of them with 202 {accepted: n}', async () => {
    expect(await request(server.url, 'POST', '/api/v1/messages/probe/one', { body: { seq: 0 } })).toMatchObject({ status: 202, body: { accepted: 1 } });
    expect(await request(server.url, 'POST', '/api/v1/messages/probe/one', { body: [{ seq: 1 }, { seq: 2 }] })).toMatchObject({
      status: 202,
      body: { accepted: 2 },
    });
    expect((await report(server.url, 'probe', 'one')).seqs).toEqual([0, 1, 2]);
  });

  it('decodes a percent-encoded twin id', async () => {
    await postMessages(server.url, 'probe', 'site 7/pump #2', { seq: 1 });
    expect((await report(server.url, 'probe', 'site 7/pump #2')).seqs).toEqual([1]);
  });

  it('accepts a bulk JSON array of {model, id, message} for many twins', async () => {
    const items = range(50).map((i) => ({ model: 'probe', id: `bulk-${i % 5}`, message: { seq: i } }));
    expect(await request(server.url, 'POST', '/api/v1/messages', { body: items })).toMatchObject({ status: 202, body: { accepted: 50 } });
    expect((await report(server.url, 'probe', 'bulk-3')).seqs).toEqual(range(10).map((k) => k * 5 + 3));
  });

  it('accepts bulk NDJSON, one envelope a line, skipping blank lines', async () => {
    const body = range(6)
      .map((i) => JSON.stringify({ model: 'probe', id: 'nd', message: { seq: i } }))
      .join('\n\r\n');
    expect(await request(server.url, 'POST', '/api/v1/messages', { body: body + '\n', contentType: 'application/x-ndjson' })).toMatchObject({
      status: 202,
      body: { accepted: 6 },
    });
    expect((await report(server.url, 'probe', 'nd')).seqs).toEqual(range(6));
  });

  it('accepts a request whole or not at all: one bad item refuses them all, naming it', async () => {
    const items = [
      { model: 'probe', id: 'whole-a', message: { seq: 1 } },
      { model: 'probe', id: 'whole-b', message: { seq: 'two' } },
    ];
    const r = await request(server.url, 'POST', '/api/v1/messages', { body: items });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('INVALID_MESSAGE');
    expect(r.body.error.message).toContain("'seq'");
    expect((await report(server.url, 'probe', 'whole-a')).count).toBe(0);
  });

  it('names the NDJSON line that is not JSON', async () => {
    const body = `{"model":"probe","id":"ndbad","message":{}}\n{"model": oops}\n`;
    const r = await request(server.url, 'POST', '/api/v1/messages', { body, contentType: 'application/x-ndjson' });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'INVALID_JSON' });
    expect(r.body.error.message).toContain('line 2');
  });

  it('refuses an unknown model with 404 UNKNOWN_MODEL and a body that is neither object nor array with 400', async () => {
    expect(await request(server.url, 'POST', '/api/v1/messages/nope/x', { body: {} })).toMatchObject({
      status: 404,
      body: { error: { code: 'UNKNOWN_MODEL' } },
    });
    expect(await request(server.url, 'POST', '/api/v1/messages/probe/x', { body: '42' })).toMatchObject({
      status: 400,
      body: { error: { code: 'INVALID_MESSAGE' } },
    });
    expect(await request(server.url, 'POST', '/api/v1/messages/probe/x', { body: '{"seq":' })).toMatchObject({
      status: 400,
      body: { error: { code: 'INVALID_JSON' } },
    });
  });
});

describe('Pull list', () => {
  it('lists queued commands without removing them, and removes those acknowledged', async () => {
    await postMessages(
      server.url,
      'probe',
      'puller',
      range(3).map((n) => ({ op: 'echo', command: { n } })),
    );
    await waitForCommand(server.url, 'probe', 'puller', (c) => c.command.n === 2);
    const listed = await pullCommands(server.url, 'probe', 'puller');
    expect(listed.map((c) => c.command)).toEqual([{ n: 0 }, { n: 1 }, { n: 2 }]);
    expect(listed.every((c) => typeof c.id === 'string' && !Number.isNaN(Date.parse(c.at)))).toBe(true);
    expect(await pullCommands(server.url, 'probe', 'puller')).toEqual(listed);
    expect(await ackCommands(server.url, 'probe', 'puller', [listed[1]!.id])).toBe(1);
    expect((await pullCommands(server.url, 'probe', 'puller')).map((c) => c.command)).toEqual([{ n: 0 }, { n: 2 }]);
    expect(await ackCommands(server.url, 'probe', 'puller', undefined)).toBe(2);
    expect(await pullCommands(server.url, 'probe', 'puller')).toEqual([]);
  });

  it('refuses an ack body that is not {"ids": [strings]}', async () => {
    expect(await request(server.url, 'POST', '/api/v1/messages/probe/puller/ack', { body: { ids: [1, 2] } })).toMatchObject({
      status: 400,
      body: { error: { code: 'BAD_REQUEST' } },
    });
  });
});

describe('Limits', () => {
  it('refuses a body whose declared length is over MAX_BODY_BYTES with 413, before reading it', async () => {
    const r = await request(server.url, 'POST', '/api/v1/messages/probe/big', { body: JSON.stringify({ pad: 'x'.repeat(MAX_BODY) }) });
    expect(r).toMatchObject({ status: 413, body: { error: { code: 'PAYLOAD_TOO_LARGE' } } });
  });

  it('answers 413 to a streamed body as soon as it passes the cap, while the client still holds the rest', async () => {
    const answer = await new Promise<{ status: number; connection: string | undefined }>((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port: server.port,
          method: 'POST',
          path: '/api/v1/messages/probe/stream',
          headers: { 'transfer-encoding': 'chunked', 'content-type': 'application/json' },
        },
        (res) => {
          res.resume();
          resolve({ status: res.statusCode!, connection: res.headers.connection });
          req.destroy();
        },
      );
      req.on('error', (e) => (e.message.includes('socket hang up') ? undefined : reject(e)));
      // more than the cap, and the request is never ended: the answer must come anyway
      req.write('[' + '{"seq":1},'.repeat((2 * MAX_BODY) / 10));
    });
    expect(answer).toEqual({ status: 413, connection: 'close' });
  });

  it('refuses more than MAX_BATCH messages in one request with 413 TOO_MANY_MESSAGES', async () => {
    const r = await request(server.url, 'POST', '/api/v1/messages/probe/many', { body: range(MAX_BATCH + 1).map(() => ({})) });
    expect(r).toMatchObject({ status: 413, body: { error: { code: 'TOO_MANY_MESSAGES' } } });
  });

  it('answers 429 with Retry-After once a connection sends more than RATE_LIMIT messages a second', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const body = JSON.stringify(range(MAX_BATCH).map((seq) => ({ seq })));
    const statuses: number[] = [];
    let retryAfter: string | undefined;
    for (let i = 0; i < RATE / MAX_BATCH + 2; i++) {
      const r = await raw(agent, 'POST', '/api/v1/messages/probe/rated', body);
      statuses.push(r.status);
      if (r.status === 429) {
        expect(r.body.error.code).toBe('RATE_LIMITED');
        retryAfter = r.headers['retry-after'] as string;
        break;
      }
    }
    agent.destroy();
    expect(statuses).toContain(429);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    // a fresh connection has its own budget
    expect((await request(server.url, 'POST', '/api/v1/messages/probe/rated', { body: { seq: 0 } })).status).toBe(202);
  });
});

describe('Errors', () => {
  it('answers unknown paths with 404, wrong methods with 405 and Allow, bad id encoding with 400 INVALID_ID', async () => {
    expect(await request(server.url, 'POST', '/api/v1/messages/probe/a/b/c', { body: {} })).toMatchObject({
      status: 404,
      body: { error: { code: 'NOT_FOUND' } },
    });
    const put = await request(server.url, 'PUT', '/api/v1/messages/probe/a', { body: {} });
    expect(put).toMatchObject({ status: 405, body: { error: { code: 'METHOD_NOT_ALLOWED' } } });
    expect(put.headers.get('allow')).toBe('GET, POST');
    expect((await request(server.url, 'GET', '/api/v1/messages')).status).toBe(405);
    expect(await request(server.url, 'POST', '/api/v1/messages/probe/%E0%A4%A', { body: {} })).toMatchObject({
      status: 400,
      body: { error: { code: 'INVALID_ID' } },
    });
  });

  it('counts every refusal by connector and code in /metrics', async () => {
    const before = await metric(server.url, 'hextwin_connector_errors_total', { connector: 'rest', code: 'UNKNOWN_MODEL' });
    await request(server.url, 'POST', '/api/v1/messages/nope/x', { body: {} });
    await request(server.url, 'POST', '/api/v1/messages/nope/y', { body: {} });
    expect(await metric(server.url, 'hextwin_connector_errors_total', { connector: 'rest', code: 'UNKNOWN_MODEL' })).toBe(before + 2);
  });
});
