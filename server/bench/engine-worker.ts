/**
 * Runs in its own process (spawned by figures/engine.ts) so memory and restart figures are not
 * disturbed by other figures: loads N twins of a small model through the real engine with the
 * LMDB store (durability on), measures the apply rate, memory per twin and restart-to-ready.
 * Prints one JSON object on stdout.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import pino from 'pino';
import { defineModel } from '@hextwin/shared';
import { Engine } from '../src/engine/engine.js';
import { RealClock } from '../src/engine/clock.js';
import { LmdbStore } from '../src/store/lmdb-store.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

interface Reading {
  v: number;
  t: number;
  ok: boolean;
}
/** A small model: three fields updated from each reading, as in the floor it is compared with. */
const small = defineModel<{ v: number; t: number; n: number }, Reading>({
  name: 'small',
  init: () => ({ v: 0, t: 0, n: 0 }),
  process(_ctx, s, msgs) {
    for (const m of msgs) {
      s.v = m.v;
      s.t = m.t;
      s.n++;
    }
    return 'update';
  },
});

const twins = Number(process.argv[2] ?? 1_000_000);
const messages = Number(process.argv[3] ?? 2_000_000);
const dir = mkdtempSync(path.join(tmpdir(), 'hextwin-bench-engine-'));
// stopped by the bench (its figure failed, or SIGINT): leave no data directory behind
process.once('SIGTERM', () => {
  rmSync(dir, { recursive: true, force: true });
  process.exit(143);
});
const progress = (s: string) => process.stderr.write(`  engine: ${s}\n`);

function engineOn(store: LmdbStore): Engine {
  return new Engine({ store, clock: new RealClock(), models: [small], logger: pino({ level: 'silent' }), checkpointMs: 2000, maxQueued: 2_000_000 });
}

const engine = engineOn(new LmdbStore(dir));
await engine.start();
gc();
const heap0 = process.memoryUsage().heapUsed;
const ids = Array.from({ length: twins }, (_, i) => `twin-${i}`);
progress(`creating ${twins} twins`);
for (let i = 0; i < twins; i += 1000) {
  const batch = [];
  for (let k = i; k < Math.min(twins, i + 1000); k++) batch.push({ model: 'small', id: ids[k]!, message: { v: 1, t: 1, ok: true } });
  await engine.ingest(batch);
}
await engine.idle();
await engine.checkpoint();
gc();
const bytesPerTwin = (process.memoryUsage().heapUsed - heap0) / twins;

// documents of 100 messages to random twins, parsed as a connector would parse them
const docs: string[] = [];
for (let d = 0; d < 1000; d++) {
  const items = [];
  for (let k = 0; k < 100; k++) items.push({ model: 'small', id: ids[((d * 100 + k) * 7919) % twins], message: { v: k, t: 1_700_000_000_000 + d, ok: true } });
  docs.push(JSON.stringify(items));
}
progress(`applying ${messages} messages in batches of 100, durable`);
const t0 = performance.now();
let sent = 0;
const inflight: Promise<void>[] = [];
while (sent < messages) {
  for (let j = 0; j < 50 && sent < messages; j++) {
    inflight.push(engine.ingest(JSON.parse(docs[(sent / 100) % docs.length]!)));
    sent += 100;
  }
  if (inflight.length > 2000) await Promise.all(inflight.splice(0, 1000));
  await new Promise((r) => setImmediate(r));
}
await Promise.all(inflight);
await engine.idle();
const applyRate = messages / ((performance.now() - t0) / 1000);
await engine.stop();

progress('restarting');
const r0 = performance.now();
const again = engineOn(new LmdbStore(dir));
await again.start();
const restartMs = performance.now() - r0;
const restored = again.twinCount();
await again.stop();
rmSync(dir, { recursive: true, force: true });
process.stdout.write(JSON.stringify({ twins, messages, applyRate, bytesPerTwin, restartMs, restored }) + '\n');
