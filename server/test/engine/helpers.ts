import pino from 'pino';
import { defineModel, type ModelDefinition } from '@hextwin/shared';
import { Engine } from '../../src/engine/engine.js';
import { VirtualClock } from '../../src/engine/clock.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import type { TwinStore } from '../../src/store/store.js';

export const silent = pino({ level: 'silent' });

/** A model that records every batch it sees, so tests can check order and batching. */
export interface RecorderState {
  seen: number[];
  batches: number[];
}
export const recorder = defineModel<RecorderState, { n: number }>({
  name: 'rec',
  init: () => ({ seen: [], batches: [] }),
  process(_ctx, state, messages) {
    state.batches.push(messages.length);
    for (const m of messages) state.seen.push(m.n);
    return 'update';
  },
});

/** Counts its messages and forwards each that names a twin in `to` to it: checks no hop is lost or doubled. */
export const forwarder = defineModel<{ got: number }, { to?: string }>({
  name: 'fwd',
  init: () => ({ got: 0 }),
  process(ctx, s, msgs) {
    for (const m of msgs) if (m.to) ctx.sendToTwin('fwd', m.to, {});
    s.got += msgs.length;
    return 'update';
  },
});

export async function startEngine(
  models: ModelDefinition[],
  opts: { store?: TwinStore; clock?: VirtualClock; checkpointMs?: number; maxQueued?: number } = {},
) {
  const clock = opts.clock ?? new VirtualClock(Date.parse('2026-01-01T00:00:00Z'));
  const store = opts.store ?? new MemoryStore();
  const engine = new Engine({ store, clock, models, logger: silent, checkpointMs: opts.checkpointMs ?? 0, maxQueued: opts.maxQueued });
  await engine.start();
  return { engine, clock, store };
}
