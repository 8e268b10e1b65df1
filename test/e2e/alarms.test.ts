/**
 * The alarm lifecycle and the twin history in the dashboard, end to end: real server, headless
 * Chromium. A typed alarm repeats in one feed row (its count rising), is assigned, acknowledged and
 * cleared from the feed; the inspector lists the twin's alarm history and charts its state history.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
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

describe('Alarm feed and twin history', () => {
  it('shows an alarm repeat, assign, acknowledge and clear in the feed, and the history chart in the inspector', async () => {
    const server = await startServer({ env: { MODELS_DIR: path.join(repoRoot, 'test/fixtures/graphql-models') } });
    const post = async (id: string, message: Record<string, unknown>) => {
      const r = await fetch(`${server.url}/api/v1/messages/sensor/${id}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(message),
      });
      expect(r.status, await r.clone().text()).toBe(202);
    };
    const page = await browser.newPage({ viewport: { width: 1600, height: 960 } });
    const errors = collectPageErrors(page);
    try {
      await page.goto(server.url + '/');
      await expect.poll(() => page.locator('[data-testid=connection]').textContent(), { timeout: 15_000 }).toContain('live');
      await page.check('label:has-text("acknowledged") input');
      await page.check('[data-testid=show-cleared]');

      // a state history: ten samples of a rising and falling level
      for (const level of [3, 5, 9, 14, 12, 8, 11, 17, 15, 20]) await post('x1', { set: { level, lat: 39.74, lng: -104.99 } });
      // one alarm raised three times: one row, count 3, escalated to CRITICAL
      await post('x1', { alert: { type: 'overheat', severity: 'WARNING', title: 'Pump overheating' } });
      await post('x1', { alert: { type: 'overheat', severity: 'WARNING', title: 'Pump overheating' } });
      await post('x1', { alert: { type: 'overheat', severity: 'CRITICAL', title: 'Pump overheating' } });
      const row = page.locator('li', { has: page.locator('[data-testid=alert-item]', { hasText: 'sensor/x1' }) });
      const item = row.locator('[data-testid=alert-item]');
      await expect.poll(() => item.getAttribute('data-count'), { timeout: 10_000 }).toBe('3');
      expect(await row.count()).toBe(1);
      expect(await item.getAttribute('data-severity')).toBe('CRITICAL');
      expect(await row.locator('[data-testid=alert-count]').textContent()).toBe('×3');
      expect(await row.locator('[data-testid=alert-status]').textContent()).toBe('active');
      expect(await page.locator('[data-testid=count-CRITICAL]').textContent()).toBe('1');

      // assign it from the feed
      await row.locator('[data-testid=assign]').click();
      await row.locator('[data-testid=assignee-input]').fill('ann');
      await row.locator('[data-testid=assign-save]').click();
      await expect.poll(() => row.locator('[data-testid=alert-assignee]').textContent(), { timeout: 5_000 }).toBe('→ ann');
      await screenshot(page, 'alarms-feed-active');

      // acknowledge: no longer open, so the CRITICAL count drops
      await row.locator('[data-testid=ack]').click();
      await expect.poll(() => item.getAttribute('data-acknowledged'), { timeout: 5_000 }).toBe('true');
      expect(await page.locator('[data-testid=count-CRITICAL]').textContent()).toBe('0');

      // the inspector: the twin's alarm history and its state history chart
      await item.click();
      await expect.poll(() => page.locator('[data-testid=inspector-id]').textContent(), { timeout: 5_000 }).toBe('x1');
      const chart = page.locator('[data-testid=history-chart]');
      await expect.poll(() => chart.getAttribute('data-samples'), { timeout: 10_000 }).toBe('10');
      expect(await chart.locator('polyline').count()).toBeGreaterThanOrEqual(1);
      const alarms = page.locator('[data-testid=inspector-alarms] li');
      expect(await alarms.count()).toBe(1);
      expect(await alarms.first().getAttribute('data-status')).toBe('ACTIVE');

      // clear it from the inspector: the feed row and the inspector both say cleared
      await alarms.first().locator('button:has-text("clear")').click();
      await expect.poll(() => alarms.first().getAttribute('data-status'), { timeout: 5_000 }).toBe('CLEARED');
      await expect.poll(() => item.getAttribute('data-status'), { timeout: 5_000 }).toBe('CLEARED');
      expect(await row.locator('[data-testid=alert-status]').textContent()).toBe('cleared');

      // raised again after the clear: a new alarm, a second row in the inspector's alarm history
      await post('x1', { alert: { type: 'overheat', severity: 'ERROR', title: 'Pump overheating again' } });
      await expect.poll(() => alarms.count(), { timeout: 10_000 }).toBe(2);
      await page.waitForTimeout(800);
      await screenshot(page, 'alarms-inspector-history');
      expect(errors).toEqual([]);
    } finally {
      await page.close();
      await server.stop();
    }
  });
});
