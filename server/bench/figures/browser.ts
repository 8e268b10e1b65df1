/**
 * Browser figure (issue 6): the built dashboard in headless Debian Chromium while 100,000 grid
 * nodes (20,000 in quick runs; `HEXTWIN_BENCH_BROWSER_TWINS=N` sets it) report once a second over
 * WebSocket ingest. Reports the longest main-thread task and the frames per second over 10 s, and
 * the ingest rate actually reached (on 2 shared cores the load generator, the server and the
 * software-rendered browser compete, so the rate is part of the result).
 * `HEXTWIN_BENCH_BROWSER_COMPOSITING=gpu` composites on SwiftShader instead of in software (see
 * `launchChromium`), and says so in the units: what is left of a long task once the software
 * compositor's read-back of every WebGL frame is gone.
 * `HEXTWIN_BENCH_BROWSER_PROF=<dir>` writes a CPU profile of the page over the measured window there
 * (`browser-<twins>.cpuprofile`, open it in Chromium's DevTools).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import WebSocket from 'ws';
import type { Figure } from '../bench.js';
import { freePort, stopChild } from '../lib/child.js';
import { childPids, trackChild, trackPid, untrackPid } from '../lib/children.js';
import { buildDashboard, launchChromium } from '../lib/chromium.js';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const MEASURE_MS = 10_000;
const WARMUP_MS = 5_000;
const QUICK_WARMUP_MS = 3_000;
const BATCH = 1_000;
const CONDITIONS = ['minor', 'moderate', 'severe', 'offline'] as const;

/** The twin count: `HEXTWIN_BENCH_BROWSER_TWINS`, else 20k quick and 100k full. */
function twinCount(quick: boolean): number {
  const env = process.env.HEXTWIN_BENCH_BROWSER_TWINS;
  if (env === undefined || env === '') return quick ? 20_000 : 100_000;
  const n = Number(env);
  if (!Number.isInteger(n) || n < 1) throw new Error(`HEXTWIN_BENCH_BROWSER_TWINS must be a positive integer, got ${JSON.stringify(env)}`);
  return n;
}

/** Deterministic positions so every run loads the same map. */
function nodePosition(i: number): { lat: number; lng: number } {
  const a = Math.sin(i * 12.9898) * 43758.5453;
  const b = Math.sin(i * 78.233) * 12345.6789;
  return { lat: 25 + (a - Math.floor(a)) * 24, lng: -124 + (b - Math.floor(b)) * 57 };
}

async function startServer(): Promise<{ url: string; wsUrl: string; stop(): Promise<void> }> {
  const port = await freePort();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'hextwin-bench-browser-'));
  // tsx is the server package's dependency: resolve it from here, not from the repo root
  const tsx = import.meta.resolve('tsx');
  const child = spawn(process.execPath, ['--max-semi-space-size=64', '--import', tsx, path.join(repoRoot, 'server/src/main.ts')], {
    cwd: repoRoot,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      WEB_DIR: path.join(repoRoot, 'web/dist'),
      LOG_LEVEL: 'warn',
      AUTH_ANONYMOUS: '1',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  trackChild(child, `hextwin server for the browser figure, port ${port}`, () => rmSync(dataDir, { recursive: true, force: true }));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    await stopChild(child);
    rmSync(dataDir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    const ok = await fetch(url + '/readyz').then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error('server not ready after 60 s');
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, wsUrl: `ws://127.0.0.1:${port}/ingest`, stop };
}

/** Chromium under playwright, its browser process tracked by PID (playwright does not hand us the process). */
async function launchTracked(compositing: 'software' | 'gpu'): Promise<{ browser: Browser; close(): Promise<void> }> {
  const before = new Set(childPids());
  const browser = await launchChromium({ compositing });
  const pids = childPids().filter((p) => !before.has(p));
  for (const p of pids) trackPid(p, 'Chromium');
  return {
    browser,
    async close() {
      await browser.close();
      for (const p of pids) untrackPid(p);
    },
  };
}

/** A WebSocket ingest client that keeps a window of batch frames in flight and counts acks. */
class Feeder {
  #ws: WebSocket;
  #fid = 0;
  #inFlight = new Map<number, () => void>();
  #waiters: (() => void)[] = [];
  accepted = 0;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.on('message', (data) => {
      const f = JSON.parse(String(data)) as { type: string; fid?: number; accepted?: number; message?: string };
      if ((f.type === 'ack' || f.type === 'error') && typeof f.fid === 'number') {
        if (f.type === 'ack') this.accepted += f.accepted ?? 0;
        this.#inFlight.get(f.fid)?.();
        this.#inFlight.delete(f.fid);
        this.#waiters.shift()?.();
      }
    });
  }

  static open(url: string): Promise<Feeder> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.once('open', () => resolve(new Feeder(ws)));
      ws.once('error', reject);
    });
  }

  async send(items: { model: string; id: string; message: unknown }[], window = 16): Promise<void> {
    while (this.#inFlight.size >= window) await new Promise<void>((r) => this.#waiters.push(r));
    const fid = ++this.#fid;
    this.#inFlight.set(fid, () => {});
    this.#ws.send(JSON.stringify({ type: 'batch', fid, items }));
  }

  async drain(): Promise<void> {
    while (this.#inFlight.size > 0) await new Promise<void>((r) => this.#waiters.push(r));
  }

  close(): void {
    this.#ws.close();
  }
}

/**
 * Runs in the page before its own code. Plain JavaScript text on purpose: a function compiled by
 * tsx would carry esbuild's `__name` helper calls, which do not exist in the page.
 * Long tasks are only reported from 50 ms on, so a 10 ms timer that arrives late measures shorter
 * blocking too (its lateness is the task that held the main thread).
 */
const INSTRUMENT = `
  window.__longest = 0;
  window.__frames = 0;
  window.__measure = false;
  new PerformanceObserver(function (list) {
    if (!window.__measure) return;
    for (const e of list.getEntries()) window.__longest = Math.max(window.__longest, e.duration);
  }).observe({ type: 'longtask' });
  let due = performance.now() + 10;
  setTimeout(function probe() {
    const now = performance.now();
    if (window.__measure) window.__longest = Math.max(window.__longest, now - due);
    due = now + 10;
    setTimeout(probe, 10);
  }, 10);
  requestAnimationFrame(function frame() {
    if (window.__measure) window.__frames += 1;
    requestAnimationFrame(frame);
  });
`;

/**
 * A fresh page with the dashboard, instrumented before any of its code runs: the longest
 * main-thread task and the frames drawn while `__measure` is true.
 */
async function openInstrumented(browser: Browser, url: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1600, height: 960 } });
  await page.addInitScript({ content: INSTRUMENT });
  await page.goto(url + '/');
  await page.waitForFunction(() => !!(window as unknown as { __hextwinMap?: { isStyleLoaded(): boolean } }).__hextwinMap?.isStyleLoaded(), undefined, {
    timeout: 60_000,
  });
  return page;
}

/**
 * Starts a CPU profile and a Chromium trace of the page when `HEXTWIN_BENCH_BROWSER_PROF` names a
 * directory; the returned stop writes them.
 */
async function profilePage(browser: Browser, page: Page, twins: number): Promise<() => Promise<void>> {
  const dir = process.env.HEXTWIN_BENCH_BROWSER_PROF;
  if (!dir) return async () => {};
  mkdirSync(dir, { recursive: true });
  await browser.startTracing(page, {
    path: path.join(dir, `browser-${twins}.trace.json`),
    categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'toplevel', 'blink', 'gpu', 'cc', 'v8'],
  });
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 500 });
  await cdp.send('Profiler.start');
  return async () => {
    const { profile } = await cdp.send('Profiler.stop');
    await browser.stopTracing();
    writeFileSync(path.join(dir, `browser-${twins}.cpuprofile`), JSON.stringify(profile));
  };
}

const figure: Figure = {
  name: 'browser',
  // loading the twins takes longer than a quick run's minute once there are more than 20k, and so
  // does writing a trace
  timeoutMs: (quick) => (quick && twinCount(true) <= 20_000 && !process.env.HEXTWIN_BENCH_BROWSER_PROF ? 60_000 : 600_000),
  async run(b) {
    const twins = twinCount(b.quick);
    const env = process.env.HEXTWIN_BENCH_BROWSER_COMPOSITING ?? 'software';
    if (env !== 'software' && env !== 'gpu') throw new Error(`HEXTWIN_BENCH_BROWSER_COMPOSITING must be software or gpu, got ${JSON.stringify(env)}`);
    const compositing: 'software' | 'gpu' = env;
    const notes = [
      ...(twins === 100_000 ? [] : [`${twins >= 1000 ? `${Math.round(twins / 1000)}k` : twins} twins`]),
      ...(compositing === 'gpu' ? ['GPU compositing'] : []),
    ];
    const per = notes.length ? ` (${notes.join(', ')})` : '';
    b.progress('building the dashboard');
    await buildDashboard();
    b.progress('starting the server and Chromium');
    // each started thing is stopped in `finally`, whichever step after it fails
    let server: Awaited<ReturnType<typeof startServer>> | undefined;
    let chromium: Awaited<ReturnType<typeof launchTracked>> | undefined;
    let feeder: Feeder | undefined;
    let feeding = true;
    try {
      server = await startServer();
      chromium = await launchTracked(compositing);
      const browser = chromium.browser;
      feeder = await Feeder.open(server.wsUrl);
      const idle = await openInstrumented(browser, server.url);

      // the floor: the longest task one repaint of the idle map costs on this machine
      await idle.waitForTimeout(2_000);
      await idle.evaluate(() => {
        (window as unknown as { __measure: boolean }).__measure = true;
      });
      for (let i = 0; i < 5; i++) {
        await idle.evaluate(() => (window as unknown as { __hextwinMap: { triggerRepaint(): void } }).__hextwinMap.triggerRepaint());
        await idle.waitForTimeout(300);
      }
      const floor = await idle.evaluate(() => (window as unknown as { __longest: number }).__longest);
      await idle.close();

      b.progress(`loading ${twins} grid nodes`);
      // every node says where it is, once
      for (let i = 0; i < twins; i += BATCH) {
        const items = [];
        for (let j = i; j < Math.min(twins, i + BATCH); j++) {
          items.push({
            model: 'grid-node',
            id: `n${j}`,
            message: { type: 'init', nodeType: j % 7 ? 'infrastructure' : 'controller', region: `r${j % 12}`, ...nodePosition(j) },
          });
        }
        await feeder.send(items);
      }
      await feeder.drain();
      const steady = feeder;

      // then every node reports once a second; about 2% of them are in trouble at any time
      let tick = 0;
      const feed = (async () => {
        while (feeding) {
          const started = Date.now();
          tick += 1;
          for (let i = 0; i < twins && feeding; i += BATCH) {
            const items = [];
            for (let j = i; j < Math.min(twins, i + BATCH); j++) {
              const trouble = (j * 31 + tick) % 50 === 0;
              items.push({
                model: 'grid-node',
                id: `n${j}`,
                message: { type: 'status', condition: trouble ? CONDITIONS[(j + tick) % CONDITIONS.length] : 'normal' },
              });
            }
            await steady.send(items);
          }
          const rest = 1_000 - (Date.now() - started);
          if (rest > 0) await new Promise((r) => setTimeout(r, rest));
        }
      })();

      // an operator opens the dashboard on a running system
      const page = await openInstrumented(browser, server.url);
      await page.waitForTimeout(b.quick ? QUICK_WARMUP_MS : WARMUP_MS);
      b.progress(`measuring for ${MEASURE_MS / 1000} s`);

      const acceptedBefore = feeder.accepted;
      const stopProfile = await profilePage(browser, page, twins);
      await page.evaluate(() => {
        (window as unknown as { __measure: boolean }).__measure = true;
      });
      const t0 = Date.now();
      await page.waitForTimeout(MEASURE_MS);
      const m = await page.evaluate(() => {
        const w = window as unknown as { __longest: number; __frames: number; __measure: boolean };
        w.__measure = false;
        return { longest: w.__longest, frames: w.__frames };
      });
      const seconds = (Date.now() - t0) / 1000;
      await stopProfile();
      const rate = (feeder.accepted - acceptedBefore) / seconds;
      feeding = false;
      await feed;
      await feeder.drain();

      b.report({
        name: 'browser.idle-repaint-task',
        value: Math.round(floor),
        unit: `ms${compositing === 'gpu' ? ' (GPU compositing)' : ''}`,
        goal: 'what one repaint of the idle map costs here: the least any update costs',
      });
      b.report({ name: 'browser.longest-task', value: Math.round(m.longest), unit: `ms${per}`, goal: '<= 50 ms with 100k twins changing at 1 Hz' });
      b.report({ name: 'browser.fps', value: Math.round((m.frames / seconds) * 10) / 10, unit: `fps${per}`, goal: '>= 30 fps' });
      b.report({ name: 'browser.ingest-reached', value: Math.round(rate), unit: `msgs/s${per}`, goal: `${twins} msgs/s (every twin once a second)` });
    } finally {
      feeding = false;
      feeder?.close();
      await chromium?.close();
      await server?.stop();
    }
  },
};
export default figure;
