/**
 * Child process of the multicore figure: the same parse + find + update work on batches of 100
 * telemetry messages, done (a) on the main thread and (b) by two partition workers that the main
 * thread hands each batch's raw bytes to (transferred, not cloned). Prints one JSON line:
 * throughput and CPU time per message (all threads of the process, from process.cpuUsage).
 */
import { Worker } from 'node:worker_threads';
import { Random } from '../src/simulator/random.js';
import { twinId } from './lib/twins.js';

const TWINS = Number(process.argv[2] ?? 1_000_000);
const BATCHES = Number(process.argv[3] ?? 20_000);
const PARTS = 2;

// a partition worker: its share of the twins, applies every batch it is handed
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const twins = new Map();
for (const id of workerData.ids) twins.set(id, { id, temp: 0, rpm: 0, alertLevel: 0, updatedAt: 0 });
const dec = new TextDecoder();
let n = 0;
parentPort.on('message', (buf) => {
  if (buf === 'done') { parentPort.postMessage(n); return; }
  const msgs = JSON.parse(dec.decode(new Uint8Array(buf)));
  for (let i = 0; i < msgs.length; i++) {
    const m = msgs[i];
    let t = twins.get(m.id);
    if (!t) twins.set(m.id, (t = { id: m.id, temp: 0, rpm: 0, alertLevel: 0, updatedAt: 0 }));
    t.temp = m.temp; t.rpm = m.rpm; t.alertLevel = m.alertLevel; t.updatedAt = m.timestamp;
  }
  n += msgs.length;
});
`;

function batches(): { part: number; bytes: Uint8Array }[] {
  const r = new Random('multicore');
  const enc = new TextEncoder();
  const out: { part: number; bytes: Uint8Array }[] = [];
  for (let b = 0; b < BATCHES; b++) {
    const part = b % PARTS;
    const msgs = [];
    for (let k = 0; k < 100; k++) {
      const i = r.int(TWINS / PARTS) * PARTS + part;
      msgs.push({ model: 'wind-turbine', id: twinId(i), temp: Number((50 + r.next() * 49.99).toFixed(2)), rpm: 60, alertLevel: r.int(10), timestamp: b });
    }
    out.push({ part, bytes: enc.encode(JSON.stringify(msgs)) });
  }
  return out;
}

function cpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

async function main(): Promise<void> {
  const work = batches();
  const total = BATCHES * 100;
  // (a) one thread
  const twins = new Map<string, { id: string; temp: number; rpm: number; alertLevel: number; updatedAt: number }>();
  for (let i = 0; i < TWINS; i++) twins.set(twinId(i), { id: twinId(i), temp: 0, rpm: 0, alertLevel: 0, updatedAt: 0 });
  const dec = new TextDecoder();
  let c0 = cpuUs();
  let t0 = performance.now();
  for (const w of work) {
    const msgs = JSON.parse(dec.decode(w.bytes)) as { id: string; temp: number; rpm: number; alertLevel: number; timestamp: number }[];
    for (const m of msgs) {
      const t = twins.get(m.id)!;
      t.temp = m.temp;
      t.rpm = m.rpm;
      t.alertLevel = m.alertLevel;
      t.updatedAt = m.timestamp;
    }
  }
  const one = { rate: total / ((performance.now() - t0) / 1000), cpuUsPerMsg: (cpuUs() - c0) / total };
  twins.clear();
  // (b) partition workers, handed raw bytes
  const workers: Worker[] = [];
  for (let p = 0; p < PARTS; p++) {
    const ids: string[] = [];
    for (let i = p; i < TWINS; i += PARTS) ids.push(twinId(i));
    const w = new Worker(WORKER, { eval: true, workerData: { ids } });
    await new Promise((r) => w.once('online', r));
    workers.push(w);
  }
  await new Promise((r) => setTimeout(r, 500)); // let the workers build their maps
  const copies = work.map((w) => w.bytes.slice());
  c0 = cpuUs();
  t0 = performance.now();
  for (let i = 0; i < copies.length; i++) {
    const buf = copies[i]!.buffer as ArrayBuffer;
    workers[work[i]!.part]!.postMessage(buf, [buf]);
    if ((i & 255) === 0) await new Promise((r) => setImmediate(r));
  }
  const done = await Promise.all(workers.map((w) => new Promise<number>((r) => (w.once('message', r), w.postMessage('done')))));
  const two = { rate: total / ((performance.now() - t0) / 1000), cpuUsPerMsg: (cpuUs() - c0) / total, applied: done.reduce((a, b) => a + b, 0) };
  for (const w of workers) await w.terminate();
  process.stdout.write(JSON.stringify({ one, two }) + '\n');
}

void main();
