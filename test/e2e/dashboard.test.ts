/**
 * The dashboard end to end: the real server (started by the kit) serves the built dashboard, a
 * headless Debian Chromium loads it, and the test drives devices over REST and watches the page.
 * Screenshots land in test-artifacts/ for a person to look at.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startServer, type ServerHandle } from '../kit/server.js';
import { buildDashboard, collectPageErrors, launchChromium, screenshot } from '../kit/browser.js';

/** Sensors around Denver, Chicago and Dallas: far enough apart to land in different hexagons. */
const SENSORS = [
  { id: 's1', lat: 39.74, lng: -104.99 },
  { id: 's2', lat: 39.8, lng: -105.1 },
  { id: 's3', lat: 41.88, lng: -87.63 },
  { id: 's4', lat: 41.95, lng: -87.7 },
  { id: 's5', lat: 32.78, lng: -96.8 },
];

async function post(server: ServerHandle, id: string, message: Record<string, unknown>, headers: Record<string, string> = {}): Promise<void> {
  const r = await fetch(`${server.url}/api/v1/messages/gas-sensor/${id}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(message),
  });
  expect(r.status, `POST gas-sensor/${id}: ${await r.clone().text()}`).toBe(202);
}

/** Polls a browser-side condition until it holds; the message names what was awaited. */
async function until(page: Page, what: string, fn: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  try {
    await page.waitForFunction(fn, undefined, { timeout: ms, polling: 100 });
  } catch (e) {
    throw new Error(`timed out after ${ms} ms waiting for ${what}`, { cause: e });
  }
}

interface MapHandle {
  isStyleLoaded(): boolean;
  loaded(): boolean;
  querySourceFeatures(source: string): unknown[];
  getCanvas(): HTMLCanvasElement;
  getLayer(id: string): unknown;
}
declare global {
  interface Window {
    __hextwinMap?: MapHandle;
  }
}

let browser: Browser;

beforeAll(async () => {
  await buildDashboard();
  browser = await launchChromium();
}, 240_000);

afterAll(async () => {
  await browser?.close();
});

describe('Operations dashboard', () => {
  it('shows live twins, hexagons, alerts, the inspector, charts and queries without console errors', async () => {
    const server = await startServer();
    const page = await browser.newPage({ viewport: { width: 1600, height: 960 } });
    const errors = collectPageErrors(page);
    try {
      await page.goto(server.url + '/');

      // the map: a live WebGL context and the offline basemap style loaded
      await until(page, 'the map style to load', () => !!window.__hextwinMap?.isStyleLoaded());
      const webgl = await page.evaluate(() => {
        const canvas = window.__hextwinMap!.getCanvas();
        const gl = (canvas.getContext('webgl2') ?? canvas.getContext('webgl')) as WebGLRenderingContext | null;
        return { ok: !!gl && !gl.isContextLost(), width: canvas.width, height: canvas.height };
      });
      expect(webgl.ok).toBe(true);
      expect(webgl.width).toBeGreaterThan(300);
      await until(page, 'the basemap land layer', () => !!window.__hextwinMap?.getLayer('basemap-land'));
      await expect.poll(() => page.locator('[data-testid=connection]').textContent(), { timeout: 10_000 }).toContain('live');

      // telemetry in → points and hexagons on the map
      const t0 = Date.now();
      for (const s of SENSORS) await post(server, s.id, { ppm: 20, timestamp: t0, lat: s.lat, lng: s.lng });
      await until(page, 'five twin points', () => window.__hextwinMap!.querySourceFeatures('twins').length >= 5, 20_000);
      await until(page, 'hexagons of the gas sensors', () => window.__hextwinMap!.querySourceFeatures('hexes').length >= 3, 20_000);
      await screenshot(page, 'dashboard-twins-and-hexagons');

      // a chart widget, added through the editor, follows the twin count
      await page.click('[data-testid=add-widget]');
      await page.fill('#w-title', 'Sensors online');
      await page.selectOption('#w-model', 'gas-sensor');
      await page.click('label.type:has-text("line")');
      await page.click('[data-testid=widget-editor] button[type=submit]');
      const widget = page.locator('[data-testid=widget]', { hasText: 'Sensors online' });
      await expect.poll(() => widget.locator('[data-testid=widget-value]').textContent(), { timeout: 10_000 }).toBe('5');
      const updatesBefore = Number(await widget.getAttribute('data-updates'));
      await post(server, 's6', { ppm: 10, timestamp: Date.now(), lat: 29.76, lng: -95.37 });
      await expect.poll(() => widget.locator('[data-testid=widget-value]').textContent(), { timeout: 10_000 }).toBe('6');
      expect(Number(await widget.getAttribute('data-updates'))).toBeGreaterThan(updatesBefore);

      // an over-threshold reading → a CRITICAL alert in the feed within 2 s
      const sent = Date.now();
      await post(server, 's1', { ppm: 300, timestamp: sent, lat: SENSORS[0]!.lat, lng: SENSORS[0]!.lng });
      const alert = page.locator('[data-testid=alert-item][data-severity=CRITICAL]', { hasText: 'gas-sensor/s1' });
      await alert.first().waitFor({ timeout: 2_000 });
      expect(Date.now() - sent).toBeLessThan(2_000);
      expect(await page.locator('[data-testid=count-CRITICAL]').textContent()).toBe('1');

      // clicking it opens the inspector on that twin, with its state
      await alert.first().click();
      await expect.poll(() => page.locator('[data-testid=inspector-id]').textContent(), { timeout: 5_000 }).toBe('s1');
      await expect.poll(() => page.locator('[data-testid=state-tree]').textContent(), { timeout: 5_000 }).toContain('alarmSounded');
      await page.waitForTimeout(1_500); // let the fly-to settle for the picture
      await screenshot(page, 'dashboard-alert-and-inspector');

      // the query builder: a one-off query, then a continuous one that follows new matches, then CSV
      await page.keyboard.press('Escape');
      await page.click('[data-testid=tab-query]');
      await page.selectOption('#q-model', 'gas-sensor');
      await page.click('button:has-text("+ condition")');
      await page.fill('input[aria-label=Field]', 'ppm');
      await page.selectOption('select[aria-label=Operator]', 'GT');
      await page.fill('input[aria-label=Value]', '100');
      await page.click('[data-testid=run-query]');
      const rows = page.locator('[data-testid=query-results] tbody tr');
      await expect.poll(() => rows.allTextContents(), { timeout: 5_000 }).toEqual([expect.stringContaining('s1')]);
      await page.check('label:has-text("continuous") input');
      await post(server, 's2', { ppm: 150, timestamp: Date.now(), lat: SENSORS[1]!.lat, lng: SENSORS[1]!.lng });
      await expect.poll(() => rows.count(), { timeout: 5_000 }).toBe(2);
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('button:has-text("CSV")')]);
      const csv = await readFile((await download.path())!, 'utf8');
      expect(csv.split('\r\n')[0]).toContain('state.ppm');
      expect(csv).toContain('gas-sensor,s2,');
      await screenshot(page, 'dashboard-query');

      expect(errors).toEqual([]);
    } finally {
      await page.close();
      await server.stop();
    }
  });

  it('asks for an API key when the server requires one, then goes live with it', async () => {
    const key = 'e2e-operator-key';
    const dir = mkdtempSync(path.join(tmpdir(), 'hextwin-auth-'));
    const authFile = path.join(dir, 'auth.json');
    writeFileSync(authFile, JSON.stringify({ keys: [{ name: 'ops', sha256: createHash('sha256').update(key).digest('hex'), role: 'operator' }] }));
    const server = await startServer({ env: { AUTH_FILE: authFile } });
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    try {
      await page.goto(server.url + '/');
      await page.locator('#api-key').waitFor({ timeout: 10_000 });
      await screenshot(page, 'dashboard-login');
      await page.fill('#api-key', key);
      await page.click('button:has-text("Sign in")');
      await expect.poll(() => page.locator('[data-testid=connection]').textContent(), { timeout: 10_000 }).toContain('live');
      expect(await page.locator('#api-key').count()).toBe(0);

      // subscriptions run with the key: a new alert arrives in the feed
      await post(server, 'k1', { ppm: 250, timestamp: Date.now(), lat: 40.7, lng: -74 }, { authorization: `Bearer ${key}` });
      await page.locator('[data-testid=alert-item]', { hasText: 'gas-sensor/k1' }).first().waitFor({ timeout: 5_000 });
    } finally {
      await page.close();
      await server.stop();
    }
  });

  it('says when the server is unreachable and resubscribes once it is back', async () => {
    let server = await startServer();
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    try {
      await page.goto(server.url + '/');
      await expect.poll(() => page.locator('[data-testid=connection]').textContent(), { timeout: 10_000 }).toContain('live');

      await server.stop();
      await page.locator('[data-testid=offline-banner]').waitFor({ timeout: 10_000 });
      await screenshot(page, 'dashboard-offline');

      server = await server.restart();
      await page.locator('[data-testid=offline-banner]').waitFor({ state: 'detached', timeout: 20_000 });
      await expect.poll(() => page.locator('[data-testid=connection]').textContent(), { timeout: 10_000 }).toContain('live');

      // the alert subscription came back by itself (its socket retries at most 5 s apart)
      await post(server, 'r1', { ppm: 400, timestamp: Date.now(), lat: 47.6, lng: -122.3 });
      await page.locator('[data-testid=alert-item]', { hasText: 'gas-sensor/r1' }).first().waitFor({ timeout: 15_000 });
    } finally {
      await page.close();
      await server.stop();
    }
  });
});
