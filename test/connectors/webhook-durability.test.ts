/**
 * Alert webhooks from a durable queue: a body owed to a webhook that is down survives a kill -9
 * of the server and is delivered, once, when the webhook comes back after the restart.
 */
import http from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fixtureEnv } from '../kit/fixtures.js';
import { metric } from '../kit/metrics.js';
import { freePort } from '../kit/ports.js';
import { postMessages } from '../kit/rest-client.js';
import { startServer, type ServerHandle } from '../kit/server.js';
import { data } from '../graphql/helpers.js';

async function until(what: string, pred: () => Promise<boolean> | boolean, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

let server: ServerHandle | undefined;
const received: { delivery: string; body: { id: string; message: string } }[] = [];
const receiver = http.createServer((req, res) => {
  let text = '';
  req.on('data', (d: Buffer) => (text += d.toString()));
  req.on('end', () => {
    received.push({ delivery: String(req.headers['x-hextwin-delivery']), body: JSON.parse(text) });
    res.writeHead(200).end();
  });
});
afterAll(async () => {
  await server?.stop();
  receiver.close();
});

describe('Alert webhooks across a crash', () => {
  it('delivers a body owed to a webhook that was down when the server was killed, once, after the restart', async () => {
    const port = await freePort();
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'hextwin-hook-crash-')), 'webhooks.json');
    writeFileSync(file, JSON.stringify([{ name: 'pager', url: `http://127.0.0.1:${port}/alerts`, retryBaseMs: 20, maxAttempts: 100 }]));
    server = await startServer({ env: { ...fixtureEnv, ALERT_WEBHOOKS: file } });
    await postMessages(server.url, 'probe', 'boiler', [{ op: 'alert', severity: 'CRITICAL', tag: 'overheat' }]);
    await until('a failed attempt', async () => (await metric(server!.url, 'hextwin_webhook_failed_attempts_total', { webhook: 'pager' })) > 0);
    const { alerts } = await data<{ alerts: { id: string }[] }>(server.url, '{ alerts(twinId: "boiler") { id } }');
    expect(alerts).toHaveLength(1);
    const owed = alerts[0]!.id;

    await server.kill();
    server = await server.restart();
    await new Promise<void>((r) => receiver.listen(port, '127.0.0.1', r));

    await until('the owed alert', () => received.some((r) => r.delivery === owed));
    await until('the queue to drain', async () => (await metric(server!.url, 'hextwin_webhook_queue_depth', { webhook: 'pager' })) === 0);
    expect(received.filter((r) => r.delivery === owed).map((r) => [r.body.id, r.body.message])).toEqual([[owed, 'overheat']]);
  });
});
