import http from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { alertBody, loadAlertWebhooks, matches } from '../../src/connectors/alert-webhooks.js';
import { LmdbWebhookJournal } from '../../src/connectors/webhook-journal.js';
import { WebhookSender, type WebhookTarget } from '../../src/connectors/webhook-sender.js';
import type { AlertRecord } from '../../src/engine/types.js';

const file = (content: unknown) => {
  const f = path.join(mkdtempSync(path.join(tmpdir(), 'hextwin-hooks-')), 'hooks.json');
  writeFileSync(f, typeof content === 'string' ? content : JSON.stringify(content));
  return f;
};

const alert = (over: Partial<AlertRecord> = {}): AlertRecord => ({
  id: 'a1',
  model: 'gas-sensor',
  twinId: 's1',
  severity: 'ERROR',
  title: 't',
  message: 'm',
  at: Date.parse('2026-01-01T00:00:00Z'),
  acknowledged: false,
  data: null,
  ...over,
});

describe('ALERT_WEBHOOKS file', () => {
  it('reads entries with defaults for everything but the url', () => {
    const [w] = loadAlertWebhooks(file([{ url: 'https://hooks.example/x' }]));
    expect(w).toMatchObject({
      name: 'hooks.example',
      url: 'https://hooks.example/x',
      models: null,
      minSeverity: 'INFO',
      maxAttempts: 8,
      retryBaseMs: 500,
      headers: {},
    });
  });

  it.each([
    ['not json', '{', /ALERT_WEBHOOKS .*hooks\.json/],
    ['not an array', { url: 'http://x' }, /expected a JSON array/],
    ['a bad url', [{ url: 'ftp://x' }], /\[0\]\.url must be an http\(s\) URL/],
    ['a bad severity', [{ url: 'http://x', minSeverity: 'LOUD' }], /\[0\]\.minSeverity must be one of INFO, WARNING, ERROR, CRITICAL/],
    ['bad models', [{ url: 'http://x', models: 'gas' }], /\[0\]\.models must be a list/],
    ['bad headers', [{ url: 'http://x', headers: { a: 1 } }], /\[0\]\.headers must be an object of strings/],
    ['a bad number', [{ url: 'http://x' }, { url: 'http://y', maxAttempts: 0 }], /\[1\]\.maxAttempts must be a whole number from 1 to 100/],
  ])('refuses %s with CONFIG_INVALID naming the entry and field', (_what, content, message) => {
    expect(() => loadAlertWebhooks(file(content))).toThrow(message);
    expect(() => loadAlertWebhooks(file(content))).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });

  it('filters by model and minimum severity', () => {
    const [w] = loadAlertWebhooks(file([{ url: 'http://x', models: ['gas-sensor'], minSeverity: 'ERROR' }]));
    expect(matches(w!, alert())).toBe(true);
    expect(matches(w!, alert({ severity: 'CRITICAL' }))).toBe(true);
    expect(matches(w!, alert({ severity: 'WARNING' }))).toBe(false);
    expect(matches(w!, alert({ model: 'truck' }))).toBe(false);
  });

  it('posts the alert as GraphQL shows it, with an ISO time', () => {
    expect(alertBody(alert())).toEqual({
      id: 'a1',
      model: 'gas-sensor',
      twinId: 's1',
      severity: 'ERROR',
      title: 't',
      message: 'm',
      at: '2026-01-01T00:00:00.000Z',
      acknowledged: false,
      data: null,
    });
  });
});

describe('WebhookSender', () => {
  let server: http.Server | undefined;
  afterEach(() => void server?.close());

  /** A receiver answering with the statuses given, in turn (200 once they run out). */
  async function receiver(statuses: number[]): Promise<{ url: string; bodies: unknown[] }> {
    const bodies: unknown[] = [];
    server = http.createServer((req, res) => {
      let text = '';
      req.on('data', (d: Buffer) => (text += d.toString()));
      req.on('end', () => {
        const status = statuses.shift() ?? 200;
        if (status === 200) bodies.push(JSON.parse(text));
        res.writeHead(status, status === 429 ? { 'retry-after': '0' } : {}).end();
      });
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, bodies };
  }

  const target = (url: string, over: Partial<WebhookTarget> = {}): WebhookTarget => ({
    name: 't',
    url,
    headers: {},
    maxAttempts: 4,
    retryBaseMs: 5,
    maxQueue: 100,
    timeoutMs: 2_000,
    ...over,
  });

  function events() {
    const log: string[] = [];
    return {
      log,
      events: {
        delivered: () => log.push('delivered'),
        attemptFailed: (r: string) => log.push(`failed ${r}`),
        gaveUp: (w: string) => log.push(`gave up ${w}`),
      },
    };
  }

  it('delivers bodies in order, retrying 5xx and 429 answers', async () => {
    const r = await receiver([500, 429]);
    const e = events();
    const s = new WebhookSender(target(r.url), e.events);
    s.enqueue({ n: 1 });
    s.enqueue({ n: 2 });
    await s.idle();
    expect(r.bodies).toEqual([{ n: 1 }, { n: 2 }]);
    expect(e.log).toEqual(['failed HTTP 500', 'failed HTTP 429', 'delivered', 'delivered']);
  });

  it('gives up on a body after maxAttempts, and at once on a 4xx answer', async () => {
    const r = await receiver([503, 503, 404]);
    const e = events();
    const s = new WebhookSender(target(r.url, { maxAttempts: 2 }), e.events);
    s.enqueue({ n: 1 });
    s.enqueue({ n: 2 });
    s.enqueue({ n: 3 });
    await s.idle();
    expect(e.log).toEqual(['failed HTTP 503', 'failed HTTP 503', 'gave up exhausted', 'failed HTTP 404', 'gave up refused', 'delivered']);
    expect(r.bodies).toEqual([{ n: 3 }]);
  });

  it('drops the oldest body not in flight when its queue is full', async () => {
    const r = await receiver([]);
    const e = events();
    const s = new WebhookSender(target(r.url, { maxQueue: 2 }), e.events);
    s.enqueue({ n: 1 }); // in flight at once
    s.enqueue({ n: 2 });
    s.enqueue({ n: 3 }); // full: 2 goes, 1 stays in flight
    await s.idle();
    expect(e.log.filter((l) => l === 'gave up dropped')).toHaveLength(1);
    expect(r.bodies).toEqual([{ n: 1 }, { n: 3 }]);
  });

  it('keeps what it still owes in its journal: a new sender on the same journal delivers it, in order, once', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'hextwin-journal-'));
    const statuses = [503, 503, 503];
    const r = await receiver(statuses);
    const first = new LmdbWebhookJournal(dir);
    const a = new WebhookSender(target(r.url, { retryBaseMs: 60_000 }), events().events, first);
    a.enqueue({ n: 1 }, { 'x-hextwin-delivery': 'one' });
    a.enqueue({ n: 2 });
    a.stop(); // the process ends with both owed
    await first.close();
    statuses.length = 0; // the receiver is fine now
    const second = new LmdbWebhookJournal(dir);
    const e = events();
    const b = new WebhookSender(target(r.url), e.events, second);
    await b.idle();
    expect(r.bodies).toEqual([{ n: 1 }, { n: 2 }]);
    expect(e.log).toEqual(['delivered', 'delivered']);
    b.enqueue({ n: 3 });
    await b.idle();
    await second.close();
    // nothing owed any more: a third sender has nothing to send
    const third = new LmdbWebhookJournal(dir);
    expect(third.pending('t')).toEqual([]);
    await third.close();
  });
});
