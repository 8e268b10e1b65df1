/**
 * The browser side of the kit: headless Debian Chromium and the built dashboard (shared with the
 * benchmarks' browser figure, see server/bench/lib/chromium.ts), screenshots and page errors.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { repoRoot } from './server.js';

export { buildDashboard, CHROMIUM, CHROMIUM_ARGS, launchChromium } from '@hextwin/server/bench/lib/chromium';

/** Where tests put screenshots (gitignored). */
export const artifactsDir = path.join(repoRoot, 'test-artifacts');

export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(artifactsDir, { recursive: true });
  const file = path.join(artifactsDir, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

/** Console errors and uncaught exceptions of a page, collected from the moment it opens. */
export function collectPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console.error: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  return errors;
}
