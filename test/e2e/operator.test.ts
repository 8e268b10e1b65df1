/**
 * What a first user and an operator tripped over, in the real dashboard (headless Chromium against
 * the real server): a user's own model coloured by the level it declares, the inspector live on a
 * twin without a location, the real version in the status panel, and no test hook in production.
 */
import { readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { repoRoot, startServer, type ServerHandle } from '../kit/server.js';
import { buildDashboard, collectPageErrors, launchChromium, screenshot } from '../kit/browser.js';

const MODELS_DIR = path.join(repoRoot, 'test/fixtures/level-models');
let browser: Browser;
let server: ServerHandle;

async function post(model: string, id: string, message: Record<string, unknown>): Promise<void> {
  const r = await fetch(`${server.url}/api/v1/messages/${model}/${id}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(message),
  });
  expect(r.status, `POST ${model}/${id}: ${await r.clone().text()}`).toBe(202);
}

async function openLive(page: Page, url: string): Promise<void> {
  await page.goto(url + '/');
  await expect.poll(() => page.locator('[data-testid=connection]').textContent(), { timeout: 15_000 }).toContain('live');
}

beforeAll(async () => {
  await buildDashboard();
  browser = await launchChromium();
  server = await startServer({ env: { MODELS_DIR } });
}, 240_000);

afterAll(async () => {
  await server?.stop();
  await browser?.close();
});

describe('A user model on the dashboard', () => {
  it("colours the user's own twins by the level their model declares, not by the sample models' field names", async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const errors = collectPageErrors(page);
    try {
      await openLive(page, server.url);
      await post('beacon', 'low', { lat: 48.85, lng: 2.35, batteryPct: 5 });
      await post('beacon', 'ok', { lat: 52.52, lng: 13.4, batteryPct: 90 });
      await expect.poll(() => page.locator('[data-testid=level-count-Critical]').textContent(), { timeout: 15_000 }).toBe('1');
      expect(await page.locator('[data-testid=level-count-Normal]').textContent()).toBe('1');
      await screenshot(page, 'operator-user-model-levels');
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('keeps the inspector live on a twin without a location', async () => {
    await post('boiler', 'cellar', { pressureBar: 2 });
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const errors = collectPageErrors(page);
    try {
      await openLive(page, server.url);
      await page.click('[data-testid=tab-query]');
      await expect.poll(() => page.locator('#q-model option[value=boiler]').count(), { timeout: 15_000 }).toBe(1);
      await page.selectOption('#q-model', 'boiler');
      await page.click('[data-testid=run-query]');
      await page.locator('[data-testid=query-results] tbody tr', { hasText: 'cellar' }).click();
      const inspector = page.locator('[data-testid=inspector]');
      await expect.poll(() => page.locator('[data-testid=inspector-id]').textContent(), { timeout: 5_000 }).toBe('cellar');
      await expect.poll(() => inspector.getAttribute('data-level'), { timeout: 5_000 }).toBe('Normal');

      // no reload, no refresh click: the change arrives through the inspector's own subscription
      await post('boiler', 'cellar', { pressureBar: 7.5 });
      await expect.poll(() => page.locator('[data-testid=state-tree]').textContent(), { timeout: 10_000 }).toContain('7.5');
      expect(await inspector.getAttribute('data-level')).toBe('Critical');
      expect(Number(await inspector.getAttribute('data-updates'))).toBeGreaterThan(0);
      await screenshot(page, 'operator-inspector-unlocated-twin');
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });
});

describe('The status panel', () => {
  it('shows the release version of the workspace', async () => {
    const { version } = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string };
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    try {
      await openLive(page, server.url);
      await page.click('[data-testid=tab-status]');
      await expect.poll(() => page.locator('[data-testid=server-version]').textContent(), { timeout: 10_000 }).toContain(`hextwin ${version}`);
      expect(version).not.toBe('0.0.0');
    } finally {
      await page.close();
    }
  });
});

describe('A production build', () => {
  it('leaves the window.__hextwinMap test hook out, while the map still renders', async () => {
    const outDir = mkdtempSync(path.join(tmpdir(), 'hextwin-web-prod-'));
    await buildDashboard({ mode: 'production', outDir });
    const prod = await startServer({ env: { MODELS_DIR, WEB_DIR: outDir } });
    const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    try {
      await openLive(page, prod.url);
      await page.locator('.maplibregl-canvas').waitFor({ timeout: 15_000 });
      await page.locator('[data-testid=legend]').waitFor({ timeout: 15_000 });
      expect(await page.evaluate(() => '__hextwinMap' in window)).toBe(false);
    } finally {
      await page.close();
      await prod.stop();
    }
  });

  it('is not what the e2e tests run: their build keeps the hook', async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    try {
      await openLive(page, server.url);
      await page.waitForFunction(() => '__hextwinMap' in window, undefined, { timeout: 15_000 });
    } finally {
      await page.close();
    }
  });
});
