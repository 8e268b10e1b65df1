/**
 * REST CPU per durable message: hextwin's server process against a REST + Redis + Lua peer
 * (peers/redis-rest-server.ts, on a redis-server of its own with `--appendfsync always`), under the
 * same load: pre-built requests from 64 keep-alive connections, 100 messages a request and one.
 * CPU per message = user + system CPU time of the server's processes over the run (/proc/PID/stat;
 * for the peer its node process plus redis-server) / messages answered 202. Each system first gets
 * one message for every twin, so both hold N twins when measured (hextwin's checkpoint of them is
 * waited for; the checkpoints of the run's own changes count). The peer runs first, so that
 * hextwin's figure can be quoted as a ratio to it (goal: at most half the peer's CPU).
 */
import type { Bench, Figure } from '../bench.js';
import { MODEL, envelopeBatches } from '../connectors/load.js';
import { startBenchServer } from '../connectors/processes.js';
import { short } from '../lib/measure.js';
import { cpuDuring, microsPer } from '../lib/proc-cpu.js';
import { httpPost, rawHttpRun, type HttpRun } from '../lib/raw-clients.js';
import { REDIS_FSYNC, redisInstalled } from '../lib/redis.js';
import { checkpointed, longestTask } from '../lib/scrape.js';
import { messageDocs, twinId, type TelemetryMessage } from '../lib/twins.js';
import { startRedisRestPeer } from '../peers/redis-rest.js';

const CONNECTIONS = 64;

interface Shape {
  /** 'batch100', 'single' */
  key: string;
  perRequest: number;
  requests(port: number): Buffer[];
}

function shapes(twins: number): Shape[] {
  const batches = envelopeBatches(1_000, 100, twins);
  const singles = messageDocs(20_000, twins, 11).map((text) => {
    const m = JSON.parse(text) as TelemetryMessage;
    return { id: m.id, body: `{"temp":${m.temp},"rpm":${m.rpm},"alertLevel":${m.alertLevel},"timestamp":${m.timestamp}}` };
  });
  return [
    { key: 'batch100', perRequest: 100, requests: (port) => batches.map((b) => httpPost(port, '/api/v1/messages', b)) },
    { key: 'single', perRequest: 1, requests: (port) => singles.map((s) => httpPost(port, `/api/v1/messages/${MODEL}/${s.id}`, s.body)) },
  ];
}

/** One message for every twin, 100 a request, each sent once. */
function creation(port: number, twins: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < twins; i += 100) {
    const items: string[] = [];
    for (let k = i; k < Math.min(twins, i + 100); k++)
      items.push(`{"model":"${MODEL}","id":"${twinId(k)}","message":{"temp":20,"rpm":60,"alertLevel":0,"timestamp":0}}`);
    out.push(httpPost(port, '/api/v1/messages', `[${items.join(',')}]`));
  }
  return out;
}

interface Measured {
  run: HttpRun;
  cpu: number[];
  system: number[];
  messages: number;
}

/**
 * A warm-up of the shape, then the measured run. `settle` runs before the warm-up (hextwin: its
 * checkpoint of what came before, so that no earlier run's work is charged to this one; the
 * warm-up's own changes then stand in for the run's changes left for after it), `beforeRun` right
 * before the run.
 */
async function measure(
  port: number,
  pids: number[],
  shape: Shape,
  ms: number,
  hooks: { settle?: () => Promise<unknown>; beforeRun?: () => Promise<unknown> } = {},
): Promise<Measured> {
  const requests = shape.requests(port);
  await hooks.settle?.();
  // a short warm-up of this request shape (JIT, connections), not measured
  await rawHttpRun(port, requests, CONNECTIONS, { ms: Math.min(1_000, ms / 4) });
  await hooks.beforeRun?.();
  const { result, cpu, system } = await cpuDuring(pids, () => rawHttpRun(port, requests, CONNECTIONS, { ms }));
  return { run: result, cpu, system, messages: result.accepted * shape.perRequest };
}

const refusals = (r: HttpRun) => {
  const list = Object.entries(r.refused);
  return list.length === 0 ? '' : `; refused: ${list.map(([s, n]) => `${n} × ${s.replace('HTTP/1.1 ', '')}`).join(', ')}`;
};

const figure: Figure = {
  name: 'rest-cpu',
  async run(b: Bench) {
    if (!redisInstalled()) {
      b.progress('no redis-server installed: skipping the REST CPU figures (they need the peer)');
      return;
    }
    const twins = b.quick ? 100_000 : 1_000_000;
    const ms = b.quick ? 2_000 : 8_000;
    const tw = short(twins);
    const list = shapes(twins);
    const load = (s: Shape) => `${CONNECTIONS} connections × ${s.perRequest} msg${s.perRequest > 1 ? 's' : ''} a request, ${tw} twins`;

    b.progress(`REST + Redis + Lua peer (appendfsync ${REDIS_FSYNC}): creating ${tw} twins`);
    const peer = await startRedisRestPeer();
    try {
      const pids = [peer.pids.node, peer.pids.redis];
      const made = await rawHttpRun(peer.port, creation(peer.port, twins), CONNECTIONS, { ms: 0, once: true });
      if (refusals(made)) b.progress(`creating the peer's twins${refusals(made)}`);
      for (const s of list) {
        b.progress(`peer, ${s.key}`);
        const m = await measure(peer.port, pids, s, ms);
        const [node, redis] = m.cpu as [number, number];
        b.report({
          name: `rest-cpu.peer-${s.key}`,
          value: microsPer(node + redis, m.messages),
          unit: `µs CPU/durable msg (node ${microsPer(node, m.messages).toFixed(1)} + redis-server ${microsPer(redis, m.messages).toFixed(1)}, appendfsync ${REDIS_FSYNC}, ${load(s)}${refusals(m.run)})`,
        });
        b.report({ name: `rest-cpu.peer-${s.key}.rate`, value: m.messages / m.run.seconds, unit: `msgs/s (${load(s)})` });
      }
    } finally {
      await peer.stop();
    }

    b.progress(`hextwin: creating ${tw} twins`);
    const server = await startBenchServer({ MAX_QUEUED: '2000000' });
    try {
      const made = await rawHttpRun(server.port, creation(server.port, twins), CONNECTIONS, { ms: 0, once: true });
      if (refusals(made)) b.progress(`creating hextwin's twins${refusals(made)}`);
      for (const s of list) {
        b.progress(`hextwin, ${s.key}`);
        // scraping before the run starts the longest-task window afresh
        const m = await measure(server.port, [server.pid], s, ms, { settle: () => checkpointed(server.url), beforeRun: () => longestTask(server.url) });
        const longest = await longestTask(server.url);
        b.report({
          name: `rest-cpu.hextwin-${s.key}`,
          value: microsPer(m.cpu[0]!, m.messages),
          unit: `µs CPU/durable msg (server process, of it ${microsPer(m.system[0]!, m.messages).toFixed(1)} system, ${load(s)}${refusals(m.run)})`,
          floor: `rest-cpu.peer-${s.key}`,
          goal: 'ratio <= 0.5 (half the REST + Redis peer)',
        });
        b.report({ name: `rest-cpu.hextwin-${s.key}.rate`, value: m.messages / m.run.seconds, unit: `msgs/s (${load(s)})` });
        b.report({ name: `rest-cpu.hextwin-${s.key}.longest-task`, value: longest * 1000, unit: `ms (server event loop during the run, ${load(s)})` });
      }
    } finally {
      await server.stop();
    }
  },
};

export default figure;
