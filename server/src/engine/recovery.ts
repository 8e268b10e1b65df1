/**
 * Recovery at start: load every twin of the last checkpoint, then replay the write-ahead log past
 * each twin's own last applied position, so nothing acknowledged is lost and nothing is applied
 * twice. Twin-to-twin items written with a checkpoint are replayed like messages (or forwarded
 * again when their twin lives elsewhere).
 */
import { keyString } from '@hextwin/shared';
import type { LogRecord, StoredTwin } from '../store/store.js';
import type { CompiledModel } from './compiled-model.js';
import type { EngineParts } from './parts.js';
import { Twin } from './twin.js';

export async function recover(p: EngineParts): Promise<{ restored: number; replayed: number }> {
  const { store, compiled, positions } = p;
  const meta = await store.loadMeta();
  let restored = 0;
  for await (const st of store.loadTwins()) {
    const cm = compiled.get(st.model);
    if (!cm) continue; // a model no longer loaded: its twins stay in the store untouched
    restoreTwin(p, cm, st);
    if (st.lastPos >= positions.nextPos) positions.nextPos = st.lastPos + 1;
    restored++;
  }
  const tombstones = new Map<string, number>();
  for (const tomb of await store.loadTombstones()) tombstones.set(keyString(tomb.model, tomb.id), tomb.lastPos);
  positions.nextPos = Math.max(positions.nextPos, meta?.nextPos ?? 1);
  const records: LogRecord[] = [];
  for await (const rec of store.readLog(meta?.truncateBelow ?? 0)) {
    records.push(rec);
    positions.nextPos = Math.max(positions.nextPos, rec.pos + Math.max(1, rec.envelopes.length));
  }
  let replayed = 0;
  for (const rec of records) replayed += replay(p, rec, tombstones);
  return { restored, replayed };
}

function restoreTwin(p: EngineParts, cm: CompiledModel, st: StoredTwin): void {
  const t = new Twin(cm, st.id, st.createdAt);
  t.state = st.state;
  t.lastPos = st.lastPos;
  t.version = st.version;
  t.updatedAt = st.updatedAt;
  t.source = st.source ?? null;
  t.lastError = st.lastError ?? null;
  p.twins.add(cm, t);
  p.twins.locate(t);
  if (st.timers?.length) p.timers.restore(t, st.timers);
}

/** Enqueue the envelopes of a log record that their twins have not applied yet; returns how many. */
function replay(p: EngineParts, rec: LogRecord, tombstones: Map<string, number>): number {
  const { positions, route } = p;
  const ref = positions.track(rec.pos, 0);
  const hops = rec.hops ?? 0;
  const source = rec.source ?? null;
  let n = 0;
  for (let i = 0; i < rec.envelopes.length; i++) {
    const e = rec.envelopes[i]!;
    const pos = rec.pos + i;
    const cm = p.compiled.get(e.model);
    if (!cm) continue;
    if (hops > 0 && route && !route.isLocal(e.model, e.id)) {
      // a checkpointed twin-to-twin item for a twin hosted elsewhere: forward it again
      positions.internal.set(pos, { envelope: e, hops, source, ...(rec.control ? { control: rec.control } : {}) });
      positions.outbox.push(pos);
      n++;
      continue;
    }
    const t = cm.twins.get(e.id);
    if (t && pos <= t.lastPos) continue;
    if (!t && pos <= (tombstones.get(keyString(e.model, e.id)) ?? 0)) continue;
    n++;
    if (rec.control === 'remove') {
      if (!t) continue;
      positions.internal.set(pos, { envelope: e, control: 'remove', hops, source: null });
      p.scheduler.enqueue(t, { kind: 'remove', pos, rec: null });
      continue;
    }
    if (hops > 0) {
      positions.internal.set(pos, rec.create === false ? { envelope: e, hops, source, create: false } : { envelope: e, hops, source });
      p.twins.deliver(cm, e.id, { kind: 'msg', pos, message: e.message, hops, rec: null, source }, rec.create !== false);
    } else {
      ref.remaining++;
      p.twins.deliver(cm, e.id, { kind: 'msg', pos, message: e.message, hops: 0, rec: ref, source });
    }
  }
  return n;
}
