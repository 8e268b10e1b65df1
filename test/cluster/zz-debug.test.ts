import { it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { startCluster } from '../kit/cluster.js';
import { SequenceLoad } from './load.js';

const modelsDir = fileURLToPath(new URL('./fixtures/models', import.meta.url));
it('debug leave', async () => {
  const c = await startCluster({ nodes: 3, env: { MODELS_DIR: modelsDir, HEXTWIN_SAMPLE_MODELS: '0', CLUSTER_NODE_TTL_MS: '1500', CHECKPOINT_MS: '500', LOG_LEVEL: 'info' } });
  try {
    const ids = Array.from({ length: 240 }, (_, i) => `t${i}`);
    const load = new SequenceLoad(ids);
    await new Promise((r) => setTimeout(r, 2000));
    for (let k = 0; k < 3; k++) await load.send(c.nodes[0]!.url, ids);
    await c.restartNats();
    await new Promise((r) => setTimeout(r, 3000));
    for (let k = 0; k < 3; k++) console.log('sent', await load.send(c.nodes[0]!.url, ids));
    const t0 = Date.now();
    await c.nodes[2]!.stop();
    console.log('STOPPED after', Date.now() - t0);
    const ls = c.nodes[2]!.output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)).filter((l) => l.time >= t0);
    const kinds: Record<string, number> = {};
    for (const l of ls) { const k = l.kind ?? l.msg; kinds[k] = (kinds[k] ?? 0) + 1; }
    console.log(JSON.stringify(kinds));
    console.log(ls.filter((l) => l.kind !== 'handedOver' && !/purging/.test(l.msg)).map((l) => `${l.time - t0} ${l.msg} ${l.partition ?? ''} ${l.err?.message ?? ''}`).slice(0, 30).join('\n'));
    const ho = ls.filter((l) => l.kind === 'handedOver');
    console.log('handovers', ho.length, 'first', ho[0]?.time - t0, 'last', ho.at(-1)?.time - t0);
    for (let k = 0; k < 30; k++) {
      const r0 = Date.now();
      const st = (await (await fetch(c.nodes[0]!.url + '/api/v1/cluster')).json()) as { partitions: string[] };
      const sh: Record<string, number> = {};
      for (const o of st.partitions) sh[o || '(none)'] = (sh[o || '(none)'] ?? 0) + 1;
      console.log(Date.now() - t0, 'took', Date.now() - r0, JSON.stringify(sh));
      if (sh['node-1'] === 128 && sh['node-2'] === 128) break;
      await new Promise((r) => setTimeout(r, 300));
    }
  } finally {
    await c.stop();
  }
}, 120000);
