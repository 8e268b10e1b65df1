// The LMDB store's checkpoint thread. The engine encodes a checkpoint's twins in slices on the main
// thread and sends them here as they are made; at commit this thread writes the whole checkpoint —
// twins, pending twin-to-twin records, tombstones, log truncation, meta — in one LMDB transaction
// and syncs it to disk, so the main thread never runs a large transaction. Plain JavaScript: worker
// threads run outside the TypeScript loader.
import { parentPort, workerData } from 'node:worker_threads';
import { open } from 'lmdb';

const env = open(workerData.options);
const log = env.openDB({ name: 'log', keyEncoding: 'uint32', encoding: 'msgpack' });
const twins = env.openDB({ name: 'twins', encoding: 'binary' });
const tombs = env.openDB({ name: 'tombstones', encoding: 'msgpack' });
const meta = env.openDB({ name: 'meta', encoding: 'msgpack' });

/** checkpoint id -> chunks of encoded twins: { keys: string[], ends: Uint32Array, buf: Uint8Array } */
const rounds = new Map();

function commit(id, m) {
  const chunks = rounds.get(id) ?? [];
  rounds.delete(id);
  env.transactionSync(() => {
    for (const p of m.pending) log.putSync(p.pos, p);
    for (const r of m.removed) {
      const k = r.model + '/' + r.id;
      twins.removeSync(k);
      tombs.putSync(k, r);
    }
    for (const c of chunks) {
      let start = 0;
      for (let i = 0; i < c.keys.length; i++) {
        const end = c.ends[i];
        twins.putSync(c.keys[i], c.buf.subarray(start, end));
        start = end;
      }
    }
    for (const k of log.getKeys({ end: m.truncateBelow })) log.removeSync(k);
    for (const { key, value } of tombs.getRange()) if (value.lastPos < m.truncateBelow) tombs.removeSync(key);
    meta.putSync('checkpoint', { nextPos: m.nextPos, truncateBelow: m.truncateBelow });
  });
  env.sync((err) => parentPort.postMessage(err ? { type: 'failed', id, error: String(err?.message ?? err) } : { type: 'committed', id }));
}

parentPort.on('message', (m) => {
  try {
    if (m.type === 'add') {
      let list = rounds.get(m.id);
      if (!list) rounds.set(m.id, (list = []));
      list.push({ keys: m.keys, ends: new Uint32Array(m.ends), buf: new Uint8Array(m.buf) });
    } else if (m.type === 'commit') commit(m.id, m);
    else if (m.type === 'abort') rounds.delete(m.id);
    else if (m.type === 'close') {
      env.close().then(() => parentPort.postMessage({ type: 'closed' }));
    }
  } catch (e) {
    if (m.id !== undefined) rounds.delete(m.id);
    parentPort.postMessage({ type: 'failed', id: m.id, error: String(e?.stack ?? e) });
  }
});
