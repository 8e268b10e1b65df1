/**
 * Headless Debian Chromium driven by playwright-core (never a downloaded browser), with the flags
 * that give it software WebGL on these machines, and a built dashboard to point it at. The browser
 * figure uses it, and so does the test kit (`test/kit/browser.ts`), so both see the same browser.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium, type Browser } from 'playwright-core';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
];

/**
 * `compositing: 'gpu'` leaves `--disable-gpu` out, so the page is composited on SwiftShader too.
 * With `--disable-gpu` the compositor is software and the renderer reads every WebGL frame back on
 * its main thread (waiting for SwiftShader to draw it); GPU compositing, what a browser with a GPU
 * does, hands the frame over without that wait.
 */
export function launchChromium(opts: { compositing?: 'software' | 'gpu' } = {}): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium`);
  const args = opts.compositing === 'gpu' ? CHROMIUM_ARGS.filter((a) => a !== '--disable-gpu') : CHROMIUM_ARGS;
  return chromium.launch({ executablePath: CHROMIUM, args });
}

/**
 * Builds the dashboard (into web/dist unless `outDir` is given; the server serves web/dist at `/`),
 * so a browser never sees a stale one. Mode `test` (the default here) keeps the `window.__hextwinMap`
 * handle the tests and the bench read; `production` is what users get.
 */
export async function buildDashboard(opts: { mode?: 'test' | 'production'; outDir?: string } = {}): Promise<void> {
  // vite's own entry under this Node: no package manager needs to be on PATH
  const web = path.join(repoRoot, 'web');
  const args = ['build', '--logLevel', 'warn', '--mode', opts.mode ?? 'test', ...(opts.outDir ? ['--outDir', opts.outDir, '--emptyOutDir'] : [])];
  // vitest sets NODE_ENV=test, which would make vite build a development bundle (DEV true)
  const env = { ...process.env, NODE_ENV: 'production' };
  await promisify(execFile)(process.execPath, [path.join(web, 'node_modules/vite/bin/vite.js'), ...args], { cwd: web, env, timeout: 180_000 });
}
