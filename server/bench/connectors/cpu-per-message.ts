/**
 * Server CPU time per accepted message under a fixed ingest load: REST one message per request,
 * and WebSocket frames of 100. Runs the real server as a child (anonymous local mode), reads the
 * child's user+system CPU from /proc before and after each load, and divides by the messages the
 * server counted as durable. `tsx bench/connectors/cpu-per-message.ts [seconds]` (from server/).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { spawnServer, stopChild } from '../lib/child.js';
import { envelopeBatches, restSingleRun, wsIngestRate } from './load.js';

const seconds = Number(process.argv[2] ?? 5);
const TICKS = 100; // USER_HZ on Linux

function cpuMs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / TICKS;
}

async function accepted(url: string): Promise<number> {
  const text = await (await fetch(url + '/metrics')).text();
  let n = 0;
  for (const m of text.matchAll(/^hextwin_connector_messages_in_total\{connector="(?:rest|ws)"\} (\S+)$/gm)) n += Number(m[1]);
  return n;
}

const modelsDir = fileURLToPath(new URL('./models', import.meta.url));
const { child, port, url } = await spawnServer({ modelsDir, env: { AUTH_ANONYMOUS: '1', RATE_LIMIT: '0', KEY_RATE_LIMIT: '0' } });
try {
  for (let i = 0; ; i++) {
    if ((await fetch(url + '/readyz').catch(() => null))?.status === 200) break;
    if (i > 600) throw new Error('server not ready');
    await new Promise((r) => setTimeout(r, 100));
  }
  const batches = envelopeBatches(200, 100, 10_000);
  const run = async (name: string, load: () => Promise<unknown>) => {
    await load(); // warm-up
    const c0 = cpuMs(child.pid!);
    const n0 = await accepted(url);
    await load();
    const n = (await accepted(url)) - n0;
    const c = cpuMs(child.pid!) - c0;
    console.log(`${name}: ${n} messages, server CPU ${c.toFixed(0)} ms, ${((c * 1000) / n).toFixed(2)} µs/message`);
  };
  await run('REST, 1 message/request, 16 connections', () => restSingleRun(port, 10_000, 16, seconds * 1000));
  await run('WebSocket, 100 messages/frame, 4 connections', () => wsIngestRate(port, batches, 100, 4, 8, seconds * 1000));
} finally {
  await stopChild(child);
}
