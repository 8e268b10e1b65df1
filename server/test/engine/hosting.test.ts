/**
 * The hooks that let something else host engines (the cluster runs one engine per partition):
 * enqueueing records that are durable elsewhere, routing twin-to-twin traffic to twins hosted
 * elsewhere, reference data and metrics shared by several engines.
 */
import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { defineModel, type ModelDefinition, type ReferenceRow } from '@hextwin/shared';
import { Engine, type EngineOptions, type ForwardItem, type ReferenceSource } from '../../src/engine/engine.js';
import { EngineMetrics } from '../../src/engine/metrics.js';
import { VirtualClock } from '../../src/engine/clock.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { recorder, silent, type RecorderState } from './helpers.js';

async function start(models: ModelDefinition[], opts: Partial<EngineOptions> = {}) {
  const store = (opts.store as MemoryStore | undefined) ?? new MemoryStore();
  const engine = new Engine({ clock: new VirtualClock(Date.parse('2026-01-01T00:00:00Z')), logger: silent, checkpointMs: 0, models, ...opts, store });
  await engine.start();
  return { engine, store };
}

const relay = defineModel<{ got: number[] }, { n: number; to?: string; drop?: string }>({
  name: 'relay',
  init: () => ({ got: [] }),
  process(ctx, s, msgs) {
    for (const m of msgs) {
      s.got.push(m.n);
      if (m.to) ctx.sendToTwin('relay', m.to, { n: m.n + 1 });
      if (m.drop) ctx.removeTwin('relay', m.drop);
    }
    return 'update';
  },
});

describe('Durable enqueue', () => {
  it('applies a record that is durable elsewhere, in order, without writing it to the log', async () => {
    const { engine, store } = await start([recorder]);
    const p1 = engine.enqueueDurable({
      envelopes: [
        { model: 'rec', id: 'a', message: { n: 1 } },
        { model: 'rec', id: 'a', message: { n: 2 } },
      ],
      source: null,
    });
    const p2 = engine.enqueueDurable({ envelopes: [{ model: 'rec', id: 'a', message: { n: 3 } }], source: null });
    await engine.idle();
    expect(p2).toBe(p1 + 2);
    expect((engine.twin('rec', 'a')!.state as RecorderState).seen).toEqual([1, 2, 3]);
    expect(store.logSize).toBe(0);
  });

  it('skips envelopes of a model it does not run and counts them', async () => {
    const { engine } = await start([recorder]);
    engine.enqueueDurable({
      envelopes: [
        { model: 'gone', id: 'x', message: {} },
        { model: 'rec', id: 'a', message: { n: 1 } },
      ],
      source: null,
    });
    await engine.idle();
    expect(engine.twin('rec', 'a')).toBeDefined();
    expect((await engine.metrics.errors.get()).values.find((v) => v.labels.code === 'UNKNOWN_MODEL')?.value).toBe(1);
  });

  it('removes a twin named by a durable control record, and holds the checkpoint position until it is applied', async () => {
    const { engine, store } = await start([recorder]);
    engine.enqueueDurable({ envelopes: [{ model: 'rec', id: 'a', message: { n: 1 } }], source: null });
    await engine.idle();
    const pos = engine.enqueueDurable({ envelopes: [{ model: 'rec', id: 'a', message: null }], source: null, control: 'remove' });
    const cp = engine.checkpoint();
    await cp;
    expect((await store.loadMeta())!.truncateBelow).toBe(pos);
    await engine.idle();
    expect(engine.twin('rec', 'a')).toBeUndefined();
    await engine.checkpoint();
    expect((await store.loadMeta())!.truncateBelow).toBe(pos + 1);
  });
});

describe('Twin routing', () => {
  const route = (local: (id: string) => boolean, forward: (items: ForwardItem[]) => Promise<void>) => ({
    isLocal: (_m: string, id: string) => local(id),
    forward,
  });

  it('forwards a message for a twin hosted elsewhere only once a checkpoint holding it is durable', async () => {
    const sent: ForwardItem[] = [];
    const { engine, store } = await start([relay], {
      route: route(
        (id) => id !== 'far',
        async (items) => void sent.push(...items),
      ),
    });
    await engine.ingest([{ model: 'relay', id: 'near', message: { n: 1, to: 'far' } }]);
    await engine.idle();
    expect(engine.twin('relay', 'far')).toBeUndefined();
    expect(sent).toEqual([]);
    expect(engine.outboxSize).toBe(1);
    await engine.checkpoint();
    await new Promise((r) => setImmediate(r));
    expect(sent.map((s) => [s.envelope.id, s.envelope.message, s.hops])).toEqual([['far', { n: 2 }, 1]]);
    // the checkpoint that released it holds it as pending, in case the forward is lost in a crash
    expect((await collectLog(store)).map((r) => r.envelopes[0]!.id)).toEqual(['far']);
    // once forwarded, the next checkpoint no longer holds it
    await engine.checkpoint();
    expect(await collectLog(store)).toEqual([]);
  });

  it('keeps items whose forward failed and sends them after the next checkpoint', async () => {
    let fail = true;
    const sent: ForwardItem[] = [];
    const { engine } = await start([relay], {
      route: route(
        (id) => id !== 'far',
        async (items) => {
          if (fail) throw new Error('NATS down');
          sent.push(...items);
        },
      ),
    });
    await engine.ingest([{ model: 'relay', id: 'near', message: { n: 1, to: 'far' } }]);
    await engine.idle();
    await engine.checkpoint();
    await new Promise((r) => setImmediate(r));
    expect(sent).toEqual([]);
    fail = false;
    await engine.checkpoint();
    await new Promise((r) => setImmediate(r));
    expect(sent.map((s) => s.envelope.id)).toEqual(['far']);
  });

  it('forwards removals of twins hosted elsewhere as control items', async () => {
    const sent: ForwardItem[] = [];
    const { engine } = await start([relay], {
      route: route(
        (id) => id !== 'far',
        async (items) => void sent.push(...items),
      ),
    });
    await engine.ingest([{ model: 'relay', id: 'near', message: { n: 1, drop: 'far' } }]);
    await engine.idle();
    await engine.checkpoint();
    await new Promise((r) => setImmediate(r));
    expect(sent.map((s) => [s.envelope.id, s.control])).toEqual([['far', 'remove']]);
  });

  it('forwards again after a restart what a crash left pending', async () => {
    const store = new MemoryStore();
    const a = await start([relay], {
      store,
      route: route(
        (id) => id !== 'far',
        () => new Promise<void>(() => undefined),
      ),
    });
    await a.engine.ingest([{ model: 'relay', id: 'near', message: { n: 1, to: 'far' } }]);
    await a.engine.idle();
    await a.engine.checkpoint();
    // crash: the forward never completed
    const sent: ForwardItem[] = [];
    const b = await start([relay], {
      store,
      checkpointMs: 60_000,
      route: route(
        (id) => id !== 'far',
        async (items) => void sent.push(...items),
      ),
    });
    await new Promise((r) => setImmediate(r));
    expect(sent.map((s) => s.envelope.id)).toEqual(['far']);
    expect((b.engine.twin('relay', 'near')!.state as { got: number[] }).got).toEqual([1]);
    await b.engine.stop();
  });
});

describe('Shared hosting resources', () => {
  const rows = new Map<string, ReferenceRow>([
    ['r1', { kind: 'A' }],
    ['r2', { kind: 'B' }],
  ]);
  const withRef = defineModel<{ kind: unknown }, object>({
    name: 'ref',
    init: (_id, ctx) => ({ kind: ctx.reference?.kind ?? null }),
    process: () => 'none',
    reference: { file: 'never-read.csv', precreate: true },
  });

  it('takes reference rows from a shared source and pre-creates only the twins it hosts', async () => {
    let reload: ((m: string) => void) | undefined;
    const source: ReferenceSource = { rows: () => rows, onReload: (fn) => ((reload = fn), () => undefined) };
    const { engine } = await start([withRef], { reference: source, route: { isLocal: (_m, id) => id === 'r1', forward: async () => undefined } });
    expect(engine.twin('ref', 'r1')!.state).toEqual({ kind: 'A' });
    expect(engine.twin('ref', 'r2')).toBeUndefined();
    rows.set('r1b', { kind: 'C' });
    expect(reload).toBeDefined();
    reload!('ref');
    expect(engine.twin('ref', 'r1b')).toBeUndefined();
  });

  it('counts into metrics shared by several engines', async () => {
    const registry = new Registry();
    const engines: Engine[] = [];
    const metrics = new EngineMetrics(registry, {
      twins: () => new Map([['rec', engines.reduce((n, e) => n + e.twinCount('rec'), 0)]]),
      queued: () => 0,
      counts: () => [{ model: 'rec', accepted: 0, applied: engines.reduce((n, e) => n + [...e.compiledModels()][0]!.applied, 0), failed: 0 }],
    });
    const a = await start([recorder], { metrics });
    const b = await start([recorder], { metrics });
    engines.push(a.engine, b.engine);
    await a.engine.ingest([{ model: 'rec', id: 'x', message: { n: 1 } }]);
    await b.engine.ingest([{ model: 'rec', id: 'y', message: { n: 1 } }]);
    await a.engine.idle();
    await b.engine.idle();
    expect(await registry.getSingleMetricAsString('hextwin_messages_applied_total')).toContain('hextwin_messages_applied_total{model="rec"} 2');
    expect(await registry.getSingleMetricAsString('hextwin_twins')).toContain('hextwin_twins{model="rec"} 2');
  });
});

async function collectLog(store: MemoryStore) {
  const out = [];
  for await (const r of store.readLog(0)) out.push(r);
  return out;
}
