import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { WireEnvelope } from './fleet.js';
import { RestSender, retryAfterMs } from './rest-sender.js';

const logger = pino({ level: 'silent' });

interface Received {
  path: string;
  auth: string | undefined;
  body: unknown;
}

/** A loopback HTTP server answering the REST ingest contract the way `answer` says. */
async function server(answer: (r: Received, n: number) => { status: number; headers?: Record<string, string>; body: unknown }) {
  const received: Received[] = [];
  const srv = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = { path: req.url ?? '', auth: req.headers.authorization, body: JSON.parse(Buffer.concat(chunks).toString()) as unknown };
      received.push(r);
      const a = answer(r, received.length);
      res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers });
      res.end(JSON.stringify(a.body));
    });
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  cleanup.push(() => new Promise((resolve) => srv.close(() => resolve())));
  return { url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`, received };
}

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const accepted = (r: Received) => ({ status: 202, body: { accepted: (r.body as unknown[]).length } });
const msg = (id: string, n: number): WireEnvelope => ({ model: 'gas-sensor', id, message: { ppm: n, timestamp: n } });

describe('RestSender', () => {
  it('posts each twin its messages of a batch as one array, in order, with the bearer key', async () => {
    const srv = await server(accepted);
    const sender = new RestSender({ baseUrl: srv.url, key: 'k1', logger });
    cleanup.push(() => sender.close());
    await sender.send([msg('a', 1), msg('b', 2), msg('a', 3), msg('c d', 4)]);
    expect(await sender.flush(5_000)).toBe(true);
    const byPath = new Map(srv.received.map((r) => [r.path, r.body]));
    expect(byPath.get('/api/v1/messages/gas-sensor/a')).toEqual([
      { ppm: 1, timestamp: 1 },
      { ppm: 3, timestamp: 3 },
    ]);
    expect(byPath.get('/api/v1/messages/gas-sensor/c%20d')).toEqual([{ ppm: 4, timestamp: 4 }]);
    expect(srv.received.every((r) => r.auth === 'Bearer k1')).toBe(true);
    expect(sender.stats).toMatchObject({ sent: 4, acked: 4, errors: 0 });
  });

  it('sends a request again after 429 with Retry-After, and counts a 400 as refused', async () => {
    const srv = await server((r, n) => {
      if (n === 1) return { status: 429, headers: { 'retry-after': '0' }, body: { error: { code: 'OVERLOADED', message: 'busy' } } };
      if (r.path.endsWith('/bad')) return { status: 400, body: { error: { code: 'INVALID_MESSAGE', message: 'ppm must be a number' } } };
      return accepted(r);
    });
    const sender = new RestSender({ baseUrl: srv.url, logger, concurrency: 1 });
    cleanup.push(() => sender.close());
    await sender.send([msg('ok', 1), msg('bad', 2)]);
    expect(await sender.flush(5_000)).toBe(true);
    expect(sender.stats).toMatchObject({ sent: 2, acked: 1, errors: 1, resent: 1 });
    expect(srv.received.map((r) => r.path)).toEqual(['/api/v1/messages/gas-sensor/ok', '/api/v1/messages/gas-sensor/ok', '/api/v1/messages/gas-sensor/bad']);
  });
});

describe('retryAfterMs', () => {
  it('reads seconds or an HTTP date, and backs off exponentially without one', () => {
    expect(retryAfterMs('2', 1)).toBe(2_000);
    const inAMinute = new Date(Date.now() + 60_000).toUTCString();
    expect(retryAfterMs(inAMinute, 1)).toBeGreaterThan(50_000);
    expect(retryAfterMs(undefined, 1)).toBe(200);
    expect(retryAfterMs(undefined, 3)).toBe(800);
  });
});
