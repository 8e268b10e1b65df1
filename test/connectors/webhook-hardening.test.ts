/** Alert webhooks as a security boundary: no redirects followed, answers discarded, bodies signed. */
import { createHmac } from 'node:crypto';
import http from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureEnv } from '../kit/fixtures.js';
import { metric } from '../kit/metrics.js';
import { postMessages } from '../kit/rest-client.js';
import { startServer, type ServerHandle } from '../kit/server.js';

const SECRET = 'whsec-0123456789abcdef';
const seen: { path: string; headers: http.IncomingHttpHeaders; body: string }[] = [];
let hugeBytesSent = 0;

/** /redirect points at /stolen; /huge answers 200 and then streams a body that never ends. */
const receiver = http.createServer((req, res) => {
  let body = '';
  req.on('data', (d: Buffer) => (body += d.toString()));
  req.on('end', () => {
    seen.push({ path: req.url!, headers: req.headers, body });
    if (req.url === '/redirect') return void res.writeHead(307, { location: '/stolen' }).end();
    if (req.url === '/huge') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const chunk = Buffer.alloc(64 * 1024, 120);
      const pump = () => {
        while (!res.destroyed && hugeBytesSent < 1024 ** 3) {
          hugeBytesSent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
      };
      res.on('close', () => undefined);
      return pump();
    }
    res.writeHead(200).end();
  });
});

let server: ServerHandle;

beforeAll(async () => {
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'hextwin-webhooks-')), 'webhooks.json');
  writeFileSync(
    file,
    JSON.stringify([
      { name: 'redirect', url: `${base}/redirect`, headers: { authorization: 'Bearer hook-secret' }, maxAttempts: 2, retryBaseMs: 20 },
      { name: 'signed', url: `${base}/signed`, secret: SECRET },
      { name: 'huge', url: `${base}/huge`, timeoutMs: 30_000 },
    ]),
  );
  server = await startServer({ env: { ...fixtureEnv, ALERT_WEBHOOKS: file } });
  await postMessages(server.url, 'probe', 'hooked', [{ op: 'alert', severity: 'CRITICAL', tag: 'fire' }]);
});
afterAll(async () => {
  await server?.stop();
  receiver.closeAllConnections();
  receiver.close();
});

async function until(pred: () => Promise<boolean> | boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('Alert webhooks, hardened', () => {
  it('does not follow a redirect, so the secret headers never reach where it points', async () => {
    await until(
      async () => (await metric(server.url, 'hextwin_webhook_deliveries_total', { webhook: 'redirect', result: 'exhausted' })) === 1,
      'the redirect hook to give up',
    );
    expect(seen.filter((s) => s.path === '/redirect')).toHaveLength(2);
    expect(seen.some((s) => s.path === '/stolen')).toBe(false);
  });

  it('signs the body with HMAC-SHA256 over "<timestamp>.<body>" in x-hextwin-signature', async () => {
    await until(() => seen.some((s) => s.path === '/signed'), 'the signed delivery');
    const hit = seen.find((s) => s.path === '/signed')!;
    const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(hit.headers['x-hextwin-signature']));
    expect(m).not.toBeNull();
    expect(m![2]).toBe(createHmac('sha256', SECRET).update(`${m![1]}.${hit.body}`).digest('hex'));
    expect(Math.abs(Number(m![1]) - Date.now() / 1000)).toBeLessThan(600);
    expect(seen.find((s) => s.path === '/redirect')!.headers['x-hextwin-signature']).toBeUndefined();
  });

  it('counts a 200 as delivered without reading an endless answer body', async () => {
    await until(
      async () => (await metric(server.url, 'hextwin_webhook_deliveries_total', { webhook: 'huge', result: 'delivered' })) === 1,
      'the huge hook to be delivered',
    );
    expect(await metric(server.url, 'hextwin_webhook_failed_attempts_total', { webhook: 'huge' })).toBe(0);
    expect(hugeBytesSent).toBeLessThan(1024 ** 3);
  });
});
