import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { httpPost, rawHttpRate, rawWsRate, wsTextFrame } from '../../bench/lib/raw-clients.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function listen(srv: http.Server): Promise<number> {
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  cleanup.push(async () => {
    srv.closeAllConnections();
    await new Promise<void>((resolve) => srv.close(() => resolve()));
  });
  return (srv.address() as AddressInfo).port;
}

describe('rawWsRate', () => {
  it('speaks WebSocket well enough for the ws library: every frame arrives whole, small and large', async () => {
    const srv = http.createServer();
    const wss = new WebSocketServer({ server: srv });
    const got: string[] = [];
    wss.on('connection', (ws) => ws.on('message', (d) => (got.push(d.toString()), ws.send('{"ok":1}'))));
    const port = await listen(srv);
    const texts = ['{"fid":0}', `{"fid":1,"pad":"${'x'.repeat(300)}"}`, `{"fid":2,"pad":"${'y'.repeat(70_000)}"}`];
    const rate = await rawWsRate(port, texts.map(wsTextFrame), 1, 1, 2, 200);
    expect(rate).toBeGreaterThan(0);
    expect(got.length).toBeGreaterThanOrEqual(3);
    got.forEach((g, i) => expect(g).toBe(texts[i % 3]));
  });
});

describe('rawHttpRate', () => {
  it('posts the bodies given over keep-alive connections and counts the 202 answers', async () => {
    const bodies: string[] = [];
    const srv = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        bodies.push(body);
        res.writeHead(202, { 'content-length': '14' }).end('{"accepted":1}');
      });
    });
    const port = await listen(srv);
    const rate = await rawHttpRate(port, [httpPost(port, '/m', '{"a":1}'), httpPost(port, '/m', '{"b":2}')], 2, 200);
    expect(rate).toBeGreaterThan(0);
    expect(new Set(bodies)).toEqual(new Set(['{"a":1}', '{"b":2}']));
  });

  it('fails on an answer other than 202', async () => {
    const srv = http.createServer((_req, res) => res.writeHead(429, { 'content-length': '0' }).end());
    const port = await listen(srv);
    await expect(rawHttpRate(port, [httpPost(port, '/m', '{}')], 1, 200)).rejects.toThrow(/429/);
  });
});
