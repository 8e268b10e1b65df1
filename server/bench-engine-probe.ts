import pino from 'pino';
import { defineModel } from '@hextwin/shared';
import { Engine } from './src/engine/engine.js';
import { RealClock } from './src/engine/clock.js';
import { LmdbStore } from './src/store/lmdb-store.js';
import { MemoryStore } from './src/store/memory-store.js';
import { rmSync } from 'node:fs';

const small = defineModel<{ v: number; t: number; n: number }, { v: number; t: number }>({
  name: 'small',
  init: () => ({ v: 0, t: 0, n: 0 }),
  process(_c, s, msgs) {
    for (const m of msgs) { s.v = m.v; s.t = m.t; s.n++; }
    return 'update';
  },
});
const N = Number(process.argv[2] ?? 1_000_000);
const kind = process.argv[3] ?? 'lmdb';
rmSync('/tmp/eb/data', { recursive: true, force: true });
const store = kind === 'lmdb' ? new LmdbStore('/tmp/eb/data') : new MemoryStore();
const engine = new Engine({ store, clock: new RealClock(), models: [small], logger: pino({ level: 'silent' }), checkpointMs: 2000, maxQueued: 2_000_000 });
await engine.start();
const ids = Array.from({ length: N }, (_, i) => 'twin-' + i);
// docs of 100 messages each
const docs: string[] = [];
for (let d = 0; d < 2000; d++) {
  const items = [];
  for (let k = 0; k < 100; k++) items.push({ model: 'small', id: ids[(d * 100 + k) * 7919 % N], message: { v: k, t: 1700000000000 + d } });
  docs.push(JSON.stringify(items));
}
// create all twins first
let t0 = performance.now();
for (let i = 0; i < N; i += 1000) {
  const batch = [];
  for (let k = i; k < Math.min(N, i + 1000); k++) batch.push({ model: 'small', id: ids[k]!, message: { v: 1, t: 1 } });
  await engine.ingest(batch);
}
await engine.idle();
console.log('create', N, Math.round(performance.now() - t0), 'ms', 'heap MB', Math.round(process.memoryUsage().heapUsed / 1e6), 'rss', Math.round(process.memoryUsage().rss/1e6));
const total = 2_000_000;
import { Session } from 'node:inspector/promises';
const session = new Session(); session.connect();
if (process.env.PROF) { await session.post('Profiler.enable'); await session.post('Profiler.start'); }
t0 = performance.now();
let sent = 0; const inflight: Promise<void>[] = [];
while (sent < total) {
  for (let j = 0; j < 50 && sent < total; j++) {
    const env = JSON.parse(docs[(sent / 100) % docs.length]!);
    inflight.push(engine.ingest(env));
    sent += 100;
  }
  if (inflight.length > 2000) await Promise.all(inflight.splice(0, 1000));
  await new Promise((r) => setImmediate(r));
}
await Promise.all(inflight);
await engine.idle();
const ms = performance.now() - t0;
console.log('apply', Math.round(total / ms * 1000), 'msgs/s');
if (process.env.PROF) { const { profile } = await session.post('Profiler.stop'); (await import('node:fs')).writeFileSync('/tmp/apply.cpuprofile', JSON.stringify(profile)); }
t0 = performance.now();
await engine.checkpoint();
console.log('checkpoint', Math.round(performance.now() - t0));
await engine.stop();
if (kind === 'lmdb') {
  t0 = performance.now();
  const e2 = new Engine({ store: new LmdbStore('/tmp/eb/data'), clock: new RealClock(), models: [small], logger: pino({ level: 'silent' }), checkpointMs: 2000 });
  await e2.start();
  console.log('restart', e2.twinCount(), Math.round(performance.now() - t0), 'ms');
  await e2.stop();
}
