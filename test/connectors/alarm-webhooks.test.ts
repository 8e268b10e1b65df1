/** Webhooks hear the alarm lifecycle: raise, severity change and clear (and repeats when asked), each body naming its event. */
import http from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postMessages } from '../kit/rest-client.js';
import { repoRoot, startServer, type ServerHandle } from '../kit/server.js';

const received: { path: string; delivery: string; body: any }[] = [];
const receiver = http.createServer((req, res) => {
  let text = '';
  req.on('data', (d: Buffer) => (text += d.toString()));
  req.on('end', () => {
    received.push({ path: req.url!, delivery: String(req.headers['x-hextwin-delivery']), body: JSON.parse(text) });
    res.writeHead(200).end();
  });
});
let server: ServerHandle;

beforeAll(async () => {
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'hextwin-alarm-hooks-')), 'webhooks.json');
  writeFileSync(file, JSON.stringify([{ url: `${base}/changes` }, { url: `${base}/repeats`, repeats: true }]));
  server = await startServer({
    env: { MODELS_DIR: path.join(repoRoot, 'test/fixtures/graphql-models'), HEXTWIN_SAMPLE_MODELS: '0', ALERT_WEBHOOKS: file },
  });
});
afterAll(async () => {
  await server?.stop();
  receiver.close();
});

async function until(pred: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`webhook receiver: timed out; got ${JSON.stringify(received.map((r) => [r.path, r.body.event]))}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('Alarm webhooks', () => {
  it('posts a raise, a severity change and a clear, and repeats only to the webhook that asks for them', async () => {
    const alert = (severity: string) => ({ alert: { type: 'temp', severity, title: 'hot' } });
    for (const m of [alert('WARNING'), alert('WARNING'), alert('CRITICAL'), { clearAlert: 'temp' }]) await postMessages(server.url, 'sensor', 'w1', [m]);
    await until(() => received.filter((r) => r.path === '/repeats').length === 4 && received.filter((r) => r.path === '/changes').length === 3);
    const events = (p: string) => received.filter((r) => r.path === p).map((r) => [r.body.event, r.body.count, r.body.severity, r.body.status]);
    expect(events('/changes')).toEqual([
      ['raise', 1, 'WARNING', 'ACTIVE'],
      ['severity', 3, 'CRITICAL', 'ACTIVE'],
      ['clear', 3, 'CRITICAL', 'CLEARED'],
    ]);
    expect(events('/repeats').map((e) => e[0])).toEqual(['raise', 'repeat', 'severity', 'clear']);
    const changes = received.filter((r) => r.path === '/changes');
    const id = changes[0]!.body.id;
    expect(changes.every((r) => r.body.id === id && r.body.type === 'temp')).toBe(true);
    // a receiver de-duplicating by delivery id keeps every change: the raise has the alert id, later changes their own
    expect(changes.map((r) => r.delivery)).toEqual([id, `${id}.severity.2`, `${id}.clear.3`]);
    expect(typeof changes[2]!.body.clearedAt).toBe('string');
  });
});
