/**
 * The hardening of the HTTP, WebSocket and MQTT surfaces (docs/SECURITY.md), each reproduced
 * against a real server over real sockets: the default mode's admin token, Host and Origin checks,
 * JSON-only POST bodies, security headers, bounded fids, per-key limits, linear device globs, ids
 * that are not well-formed UTF-16, MQTT payload size.
 */
import { statSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import mqtt from 'mqtt';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeAuthFile } from '../kit/auth-file.js';
import { fixtureEnv } from '../kit/fixtures.js';
import { startMosquitto, type MosquittoHandle } from '../kit/mosquitto.js';
import { request } from '../kit/rest-client.js';
import { startServer, type ServerHandle } from '../kit/server.js';
import { WsClient } from '../kit/ws-client.js';

/** A raw HTTP request with any headers (fetch forbids setting Host and Origin). */
function raw(
  port: number,
  method: string,
  p: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: any }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: p, headers }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => {
        let parsed: unknown = text;
        try {
          parsed = text ? JSON.parse(text) : null;
        } catch {
          // not JSON
        }
        resolve({ status: res.statusCode!, headers: res.headers, body: parsed });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The status a WebSocket upgrade is answered with (101 when it opened). */
function upgradeStatus(port: number, p: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${p}`, p === '/graphql' ? 'graphql-transport-ws' : [], { headers, perMessageDeflate: false });
    ws.once('open', () => {
      ws.close();
      resolve(101);
    });
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode!));
    ws.once('error', (e) => (e.message.includes('Unexpected server response') ? undefined : reject(e)));
  });
}

const GQL = JSON.stringify({ query: '{ __typename }' });

describe('Default mode (no AUTH_FILE): a generated admin token', () => {
  let server: ServerHandle;
  let token: string;
  beforeAll(async () => {
    server = await startServer({ env: { ...fixtureEnv, AUTH_ANONYMOUS: '' } });
    token = server.adminToken();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('refuses REST, GraphQL and WebSocket callers without the token', async () => {
    expect((await request(server.url, 'POST', '/api/v1/messages/probe/t1', { body: { seq: 1 } })).status).toBe(401);
    expect((await raw(server.port, 'POST', '/graphql', { 'content-type': 'application/json' }, GQL)).status).toBe(401);
    await expect(WsClient.connect(server.url)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('accepts the token printed in the start log and kept in DATA_DIR with mode 0600', async () => {
    expect(server.output()).toContain(token);
    expect(server.output()).toContain(`/#token=${token}`);
    expect(statSync(path.join(server.dataDir, 'admin-token')).mode & 0o777).toBe(0o600);
    expect((await request(server.url, 'POST', '/api/v1/messages/probe/t1', { key: token, body: { seq: 1 } })).status).toBe(202);
    const gql = await raw(server.port, 'POST', '/graphql', { 'content-type': 'application/json', authorization: `Bearer ${token}` }, GQL);
    expect(gql).toMatchObject({ status: 200, body: { data: { __typename: 'Query' } } });
    const ws = await WsClient.connect(server.url, { key: token });
    expect(await ws.send([{ model: 'probe', id: 't1', message: { seq: 2 } }])).toBe(1);
    await ws.close();
  });

  it('keeps the same token across a restart', async () => {
    await server.stop();
    server = await server.restart();
    expect(server.adminToken()).toBe(token);
    expect((await request(server.url, 'POST', '/api/v1/messages/probe/t1', { key: token, body: { seq: 3 } })).status).toBe(202);
  });
});

describe('Host and Origin on every surface', () => {
  let server: ServerHandle;
  beforeAll(async () => {
    server = await startServer({ env: { ...fixtureEnv, ALLOWED_ORIGINS: 'https://ops.example.com' } });
  });
  afterAll(async () => {
    await server?.stop();
  });
  const json = { 'content-type': 'application/json' };

  it('refuses a DNS-rebinding Host on REST, GraphQL, the dashboard and both WebSocket upgrades', async () => {
    const evil = { host: `evil.example:${server.port}` };
    const rest = await raw(server.port, 'POST', '/api/v1/messages/probe/h1', { ...json, ...evil }, '{"seq":1}');
    expect(rest).toMatchObject({ status: 403, body: { error: { code: 'ORIGIN_NOT_ALLOWED' } } });
    expect((await raw(server.port, 'POST', '/graphql', { ...json, ...evil }, GQL)).status).toBe(403);
    expect((await raw(server.port, 'GET', '/', evil)).status).toBe(403);
    expect(await upgradeStatus(server.port, '/ingest', evil)).toBe(403);
    expect(await upgradeStatus(server.port, '/graphql', evil)).toBe(403);
  });

  it('accepts loopback names and IP literals as Host', async () => {
    for (const host of [`localhost:${server.port}`, `127.0.0.1:${server.port}`, `[::1]:${server.port}`, `app.localhost:${server.port}`]) {
      expect((await raw(server.port, 'GET', '/healthz', { host })).status).toBe(200);
    }
  });

  it('refuses a cross-site Origin on REST, GraphQL and both WebSocket upgrades, and accepts same-origin and listed ones', async () => {
    const evil = { origin: 'https://evil.example' };
    expect((await raw(server.port, 'POST', '/api/v1/messages/probe/h1', { ...json, ...evil }, '{"seq":1}')).status).toBe(403);
    expect(await raw(server.port, 'POST', '/graphql', { ...json, ...evil }, GQL)).toMatchObject({
      status: 403,
      body: { error: { code: 'ORIGIN_NOT_ALLOWED' } },
    });
    expect(await upgradeStatus(server.port, '/ingest', evil)).toBe(403);
    expect(await upgradeStatus(server.port, '/graphql', evil)).toBe(403);
    expect(await upgradeStatus(server.port, '/ingest', { origin: 'null' })).toBe(403);

    const same = { origin: `http://127.0.0.1:${server.port}` };
    expect((await raw(server.port, 'POST', '/api/v1/messages/probe/h1', { ...json, ...same }, '{"seq":1}')).status).toBe(202);
    expect(await upgradeStatus(server.port, '/graphql', same)).toBe(101);
    const listed = { origin: 'https://ops.example.com' };
    expect((await raw(server.port, 'POST', '/graphql', { ...json, ...listed }, GQL)).status).toBe(200);
  });

  it('refuses a text/plain or form body (a cross-site simple request) on REST and GraphQL POST with 415', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const rest = await raw(server.port, 'POST', '/api/v1/messages/probe/h2', { 'content-type': type }, '{"seq":1}');
      expect(rest).toMatchObject({ status: 415, body: { error: { code: 'UNSUPPORTED_MEDIA_TYPE' } } });
      const gql = await raw(server.port, 'POST', '/graphql', { 'content-type': type }, GQL);
      expect(gql.status).toBe(415);
      expect(gql.body.errors[0].extensions.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    }
    const ndjson = await raw(
      server.port,
      'POST',
      '/api/v1/messages',
      { 'content-type': 'application/x-ndjson' },
      '{"model":"probe","id":"h2","message":{"seq":1}}\n',
    );
    expect(ndjson.status).toBe(202);
    expect((await raw(server.port, 'POST', '/api/v1/messages/probe/h2', {}, '{"seq":1}')).status).toBe(415);
  });

  it('sends no-sniff, anti-framing, referrer and content-security headers on the dashboard and the API', async () => {
    for (const p of ['/', '/api/v1/messages/probe/h3', '/healthz']) {
      const r = await raw(server.port, 'GET', p, {});
      expect(r.headers['x-content-type-options']).toBe('nosniff');
      expect(r.headers['x-frame-options']).toBe('DENY');
      expect(r.headers['referrer-policy']).toBe('no-referrer');
      expect(r.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    }
    const csp = (await raw(server.port, 'GET', '/', {})).headers['content-security-policy'] as string;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("worker-src 'self' blob:");
  });
});

describe('WebSocket frame ids', () => {
  let server: ServerHandle;
  beforeAll(async () => {
    server = await startServer({ env: fixtureEnv });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('refuses a fid longer than 128 characters with INVALID_FRAME, without echoing it', async () => {
    const ws = await WsClient.connect(server.url);
    const long = 'f'.repeat(100_000);
    ws.ws.send(JSON.stringify({ type: 'msg', fid: long, model: 'probe', id: 'f1', message: { seq: 1 } }));
    const err = await ws.nextError();
    expect(err.code).toBe('INVALID_FRAME');
    expect(err.fid).toBeUndefined();
    expect(err.message).toMatch(/at most 128 characters/);
    expect(await ws.send([{ model: 'probe', id: 'f1', message: { seq: 2 } }], 'f'.repeat(128))).toBe(1);
    await ws.close();
  });
});

describe('Per-key limits across connections', () => {
  let server: ServerHandle;
  beforeAll(async () => {
    const authFile = writeAuthFile([
      { key: 'k-dev', role: 'device', twins: ['probe/*'], name: 'dev' },
      { key: 'k-glob', role: 'device', twins: ['probe/a*a*a*a*a*a*a*a*a*a*a*a*b'], name: 'glob' },
      { key: 'k-cap', role: 'device', twins: ['probe/*'], name: 'cap' },
    ]);
    server = await startServer({ env: { ...fixtureEnv, AUTH_FILE: authFile, RATE_LIMIT: '0', KEY_RATE_LIMIT: '100', MAX_CONNECTIONS_PER_KEY: '3' } });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('limits the messages a second of one key over all its connections, not only per connection', async () => {
    const a = await WsClient.connect(server.url, { key: 'k-dev' });
    const b = await WsClient.connect(server.url, { key: 'k-dev' });
    const batch = (n: number, id: string) => Array.from({ length: n }, (_, i) => ({ model: 'probe', id, message: { seq: i } }));
    expect(await a.send(batch(100, 'r1'))).toBe(100);
    await expect(b.send(batch(100, 'r2'))).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    const rest = await request(server.url, 'POST', '/api/v1/messages/probe/r3', { key: 'k-dev', body: batch(100, 'r3').map((e) => e.message) });
    expect(rest).toMatchObject({ status: 429, body: { error: { code: 'RATE_LIMITED' } } });
    expect(rest.body.error.message).toMatch(/KEY_RATE_LIMIT/);
    expect(Number(rest.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    await a.close();
    await b.close();
  });

  it('caps the open connections of one key with TOO_MANY_CONNECTIONS', async () => {
    const open = await Promise.all([1, 2, 3].map(() => WsClient.connect(server.url, { key: 'k-cap', keyInHeader: true })));
    const refused = await WsClient.connect(server.url, { key: 'k-cap', keyInHeader: true }).catch((e) => e);
    expect(refused).toMatchObject({ status: 429 });
    await expect(WsClient.connect(server.url, { key: 'k-cap' })).rejects.toThrow(/closed 4429/);
    await Promise.all(open.map((c) => c.close()));
  });

  it('matches a pathological device glob in linear time', async () => {
    // a `.*` regular expression for this glob backtracks for hours on a 256-character id of a's
    const id = 'a'.repeat(255);
    const r = await request(server.url, 'POST', `/api/v1/messages/probe/${id}`, { key: 'k-glob', body: { seq: 1 } });
    expect(r).toMatchObject({ status: 403, body: { error: { code: 'FORBIDDEN' } } });
    expect((await request(server.url, 'POST', `/api/v1/messages/probe/${id}b`, { key: 'k-glob', body: { seq: 1 } })).status).toBe(202);
  });
});

describe('Twin ids that are not well-formed UTF-16', () => {
  let server: ServerHandle;
  beforeAll(async () => {
    server = await startServer({ env: fixtureEnv });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('refuses a lone surrogate id with INVALID_ID over REST bulk and WebSocket', async () => {
    const body = '[{"model":"probe","id":"x\\ud800","message":{"seq":1}}]';
    const rest = await raw(server.port, 'POST', '/api/v1/messages', { 'content-type': 'application/json' }, body);
    expect(rest).toMatchObject({ status: 400, body: { error: { code: 'INVALID_ID' } } });
    const ws = await WsClient.connect(server.url);
    await expect(ws.send([{ model: 'probe', id: 'x\udc00', message: { seq: 1 } }])).rejects.toMatchObject({ code: 'INVALID_ID' });
    expect(await ws.send([{ model: 'probe', id: 'x\ud83d\ude00', message: { seq: 1 } }])).toBe(1);
    await ws.close();
  });
});

describe('MQTT payload size', () => {
  let broker: MosquittoHandle;
  let server: ServerHandle;
  beforeAll(async () => {
    broker = await startMosquitto();
    server = await startServer({ env: { ...fixtureEnv, MQTT_URL: broker.url, MAX_BODY_BYTES: '2048' } });
  });
  afterAll(async () => {
    await server?.stop();
    await broker?.stop();
  });

  it('refuses a payload over MAX_BODY_BYTES with PAYLOAD_TOO_LARGE on the errors topic', async () => {
    const device = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId: 'big-device' });
    await device.subscribeAsync('hextwin/probe/big/errors', { qos: 0 });
    const got = new Promise<any>((resolve) => device.on('message', (_t, p) => resolve(JSON.parse(p.toString()))));
    await device.publishAsync('hextwin/probe/big/telemetry', JSON.stringify({ seq: 1, pad: 'x'.repeat(4_000) }), { qos: 1 });
    expect(await got).toMatchObject({ error: { code: 'PAYLOAD_TOO_LARGE' } });
    await device.endAsync();
  });
});
