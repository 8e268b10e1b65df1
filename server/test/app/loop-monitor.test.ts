/** The longest main-thread task in /metrics: what held the server's event loop since the previous scrape. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { defineModel } from '@hextwin/shared';
import { loadConfig } from '../../src/config.js';
import { startApp, type App } from '../../src/app/app.js';
import { connectorsFeature } from '../../src/connectors/index.js';
import { MemoryStore } from '../../src/store/memory-store.js';

/** Holds the event loop for `ms` on each message: a task as long as we like. */
const blocker = defineModel<{ n: number }, { ms: number }>({
  name: 'blocker',
  init: () => ({ n: 0 }),
  process(_ctx, s, msgs) {
    for (const m of msgs) {
      const until = performance.now() + m.ms;
      while (performance.now() < until);
      s.n++;
    }
    return 'update';
  },
});

const BLOCK_MS = 400;
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function start(): Promise<App> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'hextwin-loop-'));
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'silent', AUTH_ANONYMOUS: '1' });
  const app = await startApp(config, { models: [blocker], logger: pino({ level: 'silent' }), store: new MemoryStore(), features: [connectorsFeature] });
  cleanup.push(async () => {
    await app.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  return app;
}

async function longestTask(url: string): Promise<number> {
  const text = await (await fetch(url + '/metrics')).text();
  const m = /^hextwin_event_loop_longest_task_seconds (\S+)$/m.exec(text);
  if (!m) throw new Error('hextwin_event_loop_longest_task_seconds is not in /metrics');
  return Number(m[1]);
}

describe('Event-loop monitor', () => {
  it('shows the longest task since the previous scrape, then starts afresh', async () => {
    const app = await start();
    await longestTask(app.url);
    const r = await fetch(`${app.url}/api/v1/messages/blocker/b1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ms: BLOCK_MS }),
    });
    expect(r.status).toBe(202);
    await app.engine.idle();
    // wait for a probe to fire after the task: idle() may resolve inside the same turn
    await new Promise((resolve) => setTimeout(resolve, 50));
    const after = await longestTask(app.url);
    // the probe is due at most 5 ms after the task began, so it is late by the rest of it
    expect(after).toBeGreaterThanOrEqual((BLOCK_MS - 5) / 1000);
    expect(await longestTask(app.url)).toBeLessThan(after);
  });
});
