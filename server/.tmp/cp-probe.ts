import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { defineModel } from '@hextwin/shared';
import { Engine } from '../src/engine/engine.js';
import { RealClock } from '../src/engine/clock.js';
import { LmdbStore } from '../src/store/lmdb-store.js';
const m = defineModel<{ a: number; b: number; c: number }, { v: number }>({ name: 'm', init: () => ({ a: 0, b: 0, c: 0 }), process(_c, s, ms) { for (const x of ms) { s.a = x.v; s.b++; s.c += x.v; } return 'update'; } });
const dir = mkdtempSync(path.join(tmpdir(), 'cpp-'));
const e = new Engine({ store: new LmdbStore(dir), clock: new RealClock(), models: [m], logger: pino({ level: 'silent' }), checkpointMs: 3_600_000, maxQueued: 5_000_000 });
await e.start();
const N = Number(process.argv[2] ?? 1_000_000);
let t0 = performance.now();
for (let i = 0; i < N; i += 1000) {
  const batch = [];
  for (let k = i; k < i + 1000; k++) batch.push({ model: 'm', id: 't' + k, message: { v: k } });
  void e.ingest(batch);
  if ((i / 1000) % 50 === 0) await new Promise((r) => setImmediate(r));
}
await e.idle();
console.log('loaded', N, 'in', Math.round(performance.now() - t0), 'ms');
import { PerformanceObserver } from 'node:perf_hooks';
const gcs: number[] = [];
new PerformanceObserver((l) => { for (const en of l.getEntries()) gcs.push(en.duration); }).observe({ entryTypes: ['gc'] });
const gaps: [number, number][] = [];
let maxGap = 0; let last = performance.now();
const iv = setInterval(() => { const n = performance.now(); const g = n - last - 1; if (g > 5) gaps.push([Math.round(n - t0), Math.round(g)]); maxGap = Math.max(maxGap, g); last = n; }, 1);
await new Promise((r) => setTimeout(r, 100)); maxGap = 0; last = performance.now(); gcs.length = 0; gaps.length = 0;
t0 = performance.now();
// a light load during the checkpoint
let sent = 0;
const load = setInterval(() => { void e.ingest([{ model: 'm', id: 't' + (sent++ % N), message: { v: 1 } }]); }, 1);
await e.checkpoint();
gcs.sort((a,b)=>b-a); console.log('gc top', gcs.slice(0,8).map(Math.round), 'gaps>5ms', JSON.stringify(gaps.slice(0,30)));
console.log('checkpoint', Math.round(performance.now() - t0), 'ms; longest main-thread gap', maxGap.toFixed(1), 'ms; messages during', sent);
clearInterval(iv); clearInterval(load);
await e.stop();
process.exit(0);
