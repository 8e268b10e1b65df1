/**
 * Geofences in the dashboard, end to end: real server, headless Chromium. A fence from
 * GEOFENCES_FILE is drawn on the map; an operator draws a new one by clicking points, names and
 * saves it (the server then lists it), sees it drawn, and deletes it.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { repoRoot, startServer } from '../kit/server.js';
import { buildDashboard, collectPageErrors, launchChromium, screenshot } from '../kit/browser.js';

let browser: Browser;

beforeAll(async () => {
  await buildDashboard();
  browser = await launchChromium();
}, 240_000);

afterAll(async () => {
  await browser?.close();
});

/** Names of the fences MapLibre has drawn in the current view. */
const drawn = (page: Page) =>
  page.evaluate(() => {
    const map = (window as unknown as { __hextwinMap: { queryRenderedFeatures(o: { layers: string[] }): { properties: { name: string } }[] } }).__hextwinMap;
    return [...new Set(map.queryRenderedFeatures({ layers: ['geofence-fill'] }).map((f) => f.properties.name))].sort();
  });

/** Where [lng, lat] is on the page. */
async function pixel(page: Page, lng: number, lat: number): Promise<{ x: number; y: number }> {
  const p = await page.evaluate(([lng, lat]) => {
    const map = (window as unknown as { __hextwinMap: { project(l: [number, number]): { x: number; y: number } } }).__hextwinMap;
    return map.project([lng!, lat!]);
  }, [lng, lat]);
  const box = (await page.locator('[data-testid=map]').boundingBox())!;
  return { x: box.x + p.x, y: box.y + p.y };
}

const fencesOnServer = async (url: string): Promise<{ name: string; source: string }[]> => {
  const r = await fetch(url + '/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ geofences { name source } }' }),
  });
  return ((await r.json()) as { data: { geofences: { name: string; source: string }[] } }).data.geofences;
};

describe('Geofence layer and editor', () => {
  it('draws the fences of GEOFENCES_FILE, and lets an operator draw, save and delete one on the map', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'hextwin-fences-')), 'fences.json');
    const depot = [
      [-105.1, 39.7],
      [-104.9, 39.7],
      [-104.9, 39.8],
      [-105.1, 39.8],
      [-105.1, 39.7],
    ];
    writeFileSync(file, JSON.stringify([{ name: 'depot', shape: { type: 'Polygon', coordinates: [depot] } }]));
    const server = await startServer({ env: { MODELS_DIR: path.join(repoRoot, 'test/fixtures/graphql-models'), HEXTWIN_SAMPLE_MODELS: '0', GEOFENCES_FILE: file } });
    const page = await browser.newPage({ viewport: { width: 1600, height: 960 } });
    const errors = collectPageErrors(page);
    try {
      await page.goto(server.url + '/');
      await expect.poll(() => page.locator('[data-testid=connection]').textContent(), { timeout: 15_000 }).toContain('live');
      await page.waitForFunction(() => '__hextwinMap' in window);
      await page.evaluate(() =>
        (window as unknown as { __hextwinMap: { jumpTo(o: object): void } }).__hextwinMap.jumpTo({ center: [-104.9, 39.75], zoom: 10 }),
      );
      await expect.poll(() => drawn(page), { timeout: 10_000 }).toEqual(['depot']);

      const editor = page.locator('[data-testid=geofence-editor]');
      await editor.getByRole('button', { name: /Geofences \(1\)/ }).click();
      await expect.poll(() => editor.locator('li').textContent()).toContain('file');
      await editor.getByRole('button', { name: 'Draw a geofence' }).click();
      for (const [lng, lat] of [
        [-104.8, 39.7],
        [-104.7, 39.7],
        [-104.75, 39.8],
      ]) {
        const { x, y } = await pixel(page, lng!, lat!);
        await page.mouse.click(x, y);
      }
      await expect.poll(() => editor.locator('.hint').textContent()).toContain('3 so far');
      await editor.getByLabel('Geofence name').fill('north yard');
      await editor.getByLabel('Geofence model').selectOption('sensor');
      await editor.getByRole('button', { name: 'Save' }).click();

      await expect.poll(() => fencesOnServer(server.url), { timeout: 10_000 }).toEqual([
        { name: 'depot', source: 'FILE' },
        { name: 'north yard', source: 'API' },
      ]);
      await expect.poll(() => drawn(page), { timeout: 10_000 }).toEqual(['depot', 'north yard']);
      await screenshot(page, 'geofences');

      await editor.getByRole('button', { name: 'Delete geofence north yard' }).click();
      await expect.poll(() => fencesOnServer(server.url), { timeout: 10_000 }).toEqual([{ name: 'depot', source: 'FILE' }]);
      await expect.poll(() => drawn(page), { timeout: 10_000 }).toEqual(['depot']);
      expect(errors).toEqual([]);
    } finally {
      await page.close();
      await server.stop();
    }
  });
});
