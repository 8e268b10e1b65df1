/** Alerts forwarded to webhooks (ALERT_WEBHOOKS): filtered, retried with back-off, failures counted. */
import http from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureEnv } from '../kit/fixtures.js';
import { metric } from '../kit/metrics.js';
import { freePort } from '../kit/ports.js';
import { postMessages } from '../kit/rest-client.js';
import { startServer, type ServerHandle } from '../kit/server.js';

interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: any;
}

/** A webhook receiver: `/flaky` fails its first two requests with 500, `/gone` answers 410. */
class Receiver {
  readonly received: Received[] = [];
  private flakyFailures = 2;
  private waiters: (() => void)[] = [];
  readonly server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (d: Buffer) => (text += d.toString()));
    req.on('end', () => {
      const status = req.url === '/gone' ? 410 : req.url === '/flaky' && this.flakyFailures-- > 0 ? 500 : 200;
      if (status === 200) {
        this.received.push({ path: req.url!, headers: req.headers, body: JSON.parse(text) });
        this.waiters.splice(0).forEach((w) => w());
      }
      res.writeHead(status).end();
    });
  });

  async start(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async until(pred: (r: Received[]) => boolean, ms = 10_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!pred(this.received)) {
      if (Date.now() > deadline)
        throw new Error(`webhook receiver: timed out; got ${JSON.stringify(this.received.map((r) => [r.path, r.body.title, r.body.severity]))}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 100);
      });
    }
  }
}

const receiver = new Receiver();
let server: ServerHandle;

beforeAll(async () => {
  const base = await receiver.start();
  const closedPort = await freePort();
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'hextwin-webhooks-')), 'webhooks.json');
  writeFileSync(
    file,
    JSON.stringify([
      { name: 'all', url: `${base}/flaky`, retryBaseMs: 50 },
      { name: 'critical', url: `${base}/critical`, models: ['probe'], minSeverity: 'CRITICAL', headers: { authorization: 'Bearer hook-secret' } },
      { name: 'other-model', url: `${base}/other`, models: ['gas-sensor'] },
      { name: 'down', url: `http://127.0.0.1:${closedPort}/nobody`, retryBaseMs: 20, maxAttempts: 3 },
      { name: 'gone', url: `${base}/gone`, retryBaseMs: 20, maxAttempts: 5 },
    ]),
  );
  server = await startServer({ env: { ...fixtureEnv, ALERT_WEBHOOKS: file } });
});
afterAll(async () => {
  await server?.stop();
  receiver.server.close();
});

describe('Alert webhooks', () => {
  it('posts each alert to the webhooks whose model and severity filters it passes, retrying failures', async () => {
    await postMessages(server.url, 'probe', 'hooked', [
      { op: 'alert', severity: 'WARNING', tag: 'warm' },
      { op: 'alert', severity: 'CRITICAL', tag: 'fire' },
    ]);
    await receiver.until((r) => r.filter((x) => x.path === '/flaky').length === 2 && r.some((x) => x.path === '/critical'));

    const all = receiver.received.filter((r) => r.path === '/flaky');
    expect(all.map((r) => [r.body.severity, r.body.message])).toEqual([
      ['WARNING', 'warm'],
      ['CRITICAL', 'fire'],
    ]);
    expect(all[0]!.body).toMatchObject({ model: 'probe', twinId: 'hooked', title: 'probe alert', acknowledged: false, data: { tag: 'warm' } });
    expect(typeof all[0]!.body.id).toBe('string');
    expect(Number.isNaN(Date.parse(all[0]!.body.at))).toBe(false);
    expect(all[0]!.headers['x-hextwin-event']).toBe('alert');
    expect(all[0]!.headers['x-hextwin-delivery']).toBe(all[0]!.body.id);

    const critical = receiver.received.filter((r) => r.path === '/critical');
    expect(critical.map((r) => r.body.message)).toEqual(['fire']);
    expect(critical[0]!.headers.authorization).toBe('Bearer hook-secret');
    expect(receiver.received.some((r) => r.path === '/other')).toBe(false);

    expect(await metric(server.url, 'hextwin_webhook_failed_attempts_total', { webhook: 'all' })).toBe(2);
    expect(await metric(server.url, 'hextwin_webhook_deliveries_total', { webhook: 'all', result: 'delivered' })).toBe(2);
  });

  it('gives up after its attempts on an unreachable webhook, and at once on a 4xx answer, counting both', async () => {
    const deadline = Date.now() + 10_000;
    while ((await metric(server.url, 'hextwin_webhook_deliveries_total', { webhook: 'down', result: 'exhausted' })) < 2) {
      expect(Date.now()).toBeLessThan(deadline);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await metric(server.url, 'hextwin_webhook_failed_attempts_total', { webhook: 'down' })).toBe(6);
    expect(await metric(server.url, 'hextwin_webhook_deliveries_total', { webhook: 'gone', result: 'refused' })).toBe(2);
    expect(await metric(server.url, 'hextwin_webhook_failed_attempts_total', { webhook: 'gone' })).toBe(2);
    expect((await fetch(server.url + '/readyz')).status).toBe(200);
  });
});
