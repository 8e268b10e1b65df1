import { describe, expect, it } from 'vitest';
import { defineModel, type JsonValue } from '@hextwin/shared';
import { MemoryStore } from '../../src/store/memory-store.js';
import { forwarder, recorder, startEngine, type RecorderState } from './helpers.js';

const env = (id: string, n: number) => ({ model: 'rec', id, message: { n } });

describe('Delivery', () => {
  it('creates a twin on its first message with init, then process', async () => {
    const { engine } = await startEngine([recorder]);
    expect(engine.twin('rec', 'a')).toBeUndefined();
    await engine.ingest([env('a', 1)]);
    await engine.idle();
    const t = engine.twin('rec', 'a')!;
    expect((t.state as RecorderState).seen).toEqual([1]);
    expect(t.version).toBe(1);
  });

  it('counts applied messages in the version, however they were batched, so one version names one state', async () => {
    const one = (await startEngine([recorder])).engine;
    await one.ingest([env('a', 1), env('a', 2), env('a', 3)]);
    await one.idle();
    const apart = (await startEngine([recorder])).engine;
    for (const n of [1, 2, 3]) {
      await apart.ingest([env('a', n)]);
      await apart.idle();
    }
    expect(one.twin('rec', 'a')!.version).toBe(3);
    expect(apart.twin('rec', 'a')!.version).toBe(3);
    expect((one.twin('rec', 'a')!.state as RecorderState).seen).toEqual((apart.twin('rec', 'a')!.state as RecorderState).seen);
  });

  it('delivers each twin its messages in arrival order across many ingests', async () => {
    const { engine } = await startEngine([recorder]);
    const sends: Promise<void>[] = [];
    for (let i = 0; i < 300; i++) sends.push(engine.ingest([env('a', i), env('b', 1000 + i)]));
    await Promise.all(sends);
    await engine.idle();
    expect((engine.twin('rec', 'a')!.state as RecorderState).seen).toEqual([...Array(300).keys()]);
    expect((engine.twin('rec', 'b')!.state as RecorderState).seen).toEqual([...Array(300).keys()].map((i) => 1000 + i));
  });

  it('hands a model whatever has queued up as one batch', async () => {
    const { engine } = await startEngine([recorder]);
    const p = engine.ingest([env('a', 1), env('a', 2), env('a', 3)]);
    const q = engine.ingest([env('a', 4)]);
    await Promise.all([p, q]);
    await engine.idle();
    expect((engine.twin('rec', 'a')!.state as RecorderState).batches).toEqual([4]);
  });

  it('never runs two batches of one twin at once, while other twins go on', async () => {
    let running = 0;
    let maxRunning = 0;
    const order: string[] = [];
    const slow = defineModel<{ n: number }, { n: number }>({
      name: 'slow',
      init: () => ({ n: 0 }),
      async process(ctx, state, msgs) {
        running++;
        maxRunning = Math.max(maxRunning, running);
        order.push(`${ctx.id}:start`);
        await new Promise((r) => setTimeout(r, ctx.id === 'a' ? 20 : 1));
        state.n += msgs.length;
        order.push(`${ctx.id}:end`);
        running--;
        return 'update' as const;
      },
    });
    const { engine } = await startEngine([slow]);
    await engine.ingest([{ model: 'slow', id: 'a', message: { n: 1 } }]);
    await new Promise((r) => setTimeout(r, 2));
    await engine.ingest([
      { model: 'slow', id: 'a', message: { n: 2 } },
      { model: 'slow', id: 'b', message: { n: 1 } },
    ]);
    await engine.idle();
    expect(engine.twin('slow', 'a')!.state).toEqual({ n: 2 });
    // b finished while a's first batch was still running
    expect(order.indexOf('b:end')).toBeLessThan(order.indexOf('a:end'));
    // a's second batch started only after its first ended
    expect(order.lastIndexOf('a:start')).toBeGreaterThan(order.indexOf('a:end'));
  });

  it('refuses a batch whole when one message is for an unknown model', async () => {
    const { engine } = await startEngine([recorder]);
    await expect(engine.ingest([env('a', 1), { model: 'nope', id: 'x', message: {} }])).rejects.toMatchObject({ code: 'UNKNOWN_MODEL' });
    await engine.idle();
    expect(engine.twin('rec', 'a')).toBeUndefined();
  });

  it('refuses a message that fails the model schema, naming the field', async () => {
    const typed = defineModel<{ v: number }, { v: number }>({
      name: 'typed',
      init: () => ({ v: 0 }),
      process: (_c, s, m) => ((s.v = m[m.length - 1]!.v), 'update'),
      messageSchema: { type: 'object', properties: { v: { type: 'number' } }, required: ['v'] },
    });
    const { engine } = await startEngine([typed]);
    await expect(engine.ingest([{ model: 'typed', id: 'a', message: { v: 'high' } }])).rejects.toThrow(/field 'v' must be number/);
    await expect(engine.ingest([{ model: 'typed', id: 'a', message: {} }])).rejects.toThrow(/field 'v' is required/);
  });

  it('refuses ingest with OVERLOADED when mailboxes are full, and accepts again once drained', async () => {
    const { engine } = await startEngine([recorder], { maxQueued: 1000 });
    const batch = Array.from({ length: 1000 }, (_, i) => env(`t${i}`, i));
    await engine.ingest(batch);
    expect(engine.overloaded).toBe(true);
    await expect(engine.ingest([env('x', 1)])).rejects.toMatchObject({ code: 'OVERLOADED' });
    await engine.whenAccepting();
    await engine.ingest([env('x', 1)]);
  });
});

describe('Results', () => {
  it("removes a twin that returns 'remove', and a later message creates it anew", async () => {
    const m = defineModel<{ n: number }, { bye?: boolean }>({
      name: 'm',
      init: () => ({ n: 0 }),
      process: (_c, s, msgs) => (msgs.some((x) => x.bye) ? 'remove' : ((s.n += msgs.length), 'update')),
    });
    const { engine } = await startEngine([m]);
    const removed: string[] = [];
    engine.on('twinRemoved', (e) => removed.push(e.id));
    await engine.ingest([{ model: 'm', id: 'a', message: {} }]);
    await engine.idle();
    await engine.ingest([{ model: 'm', id: 'a', message: { bye: true } }]);
    await engine.idle();
    expect(engine.twin('m', 'a')).toBeUndefined();
    expect(removed).toEqual(['a']);
    await engine.ingest([{ model: 'm', id: 'a', message: {} }]);
    await engine.idle();
    expect(engine.twin('m', 'a')!.state).toEqual({ n: 1 });
  });

  it("does not count a change for 'none'", async () => {
    const m = defineModel<object, object>({ name: 'm', init: () => ({}), process: () => 'none' });
    const { engine } = await startEngine([m]);
    await engine.ingest([{ model: 'm', id: 'a', message: {} }]);
    await engine.idle();
    expect(engine.twin('m', 'a')!.version).toBe(0);
  });
});

describe('Isolation', () => {
  it('fails only the throwing twin, records the error on it, and goes on', async () => {
    const m = defineModel<{ n: number }, { boom?: boolean }>({
      name: 'm',
      init: () => ({ n: 0 }),
      process(ctx, s, msgs) {
        if (msgs.some((x) => x.boom)) {
          ctx.alert({ severity: 'INFO', title: 'never raised' });
          throw new Error('kaboom');
        }
        s.n += msgs.length;
        return 'update';
      },
    });
    const { engine } = await startEngine([m]);
    const errors: string[] = [];
    engine.on('modelError', (e) => errors.push(`${e.id}:${e.code}`));
    await engine.ingest([
      { model: 'm', id: 'bad', message: { boom: true } },
      { model: 'm', id: 'good', message: {} },
    ]);
    await engine.idle();
    expect(errors).toEqual(['bad:MODEL_ERROR']);
    expect(engine.twin('m', 'bad')!.lastError).toMatchObject({ code: 'MODEL_ERROR', message: 'kaboom' });
    expect(engine.twin('m', 'good')!.state).toEqual({ n: 1 });
    expect(engine.alerts()).toEqual([]);
    // the twin works again on its next message, and the error clears
    await engine.ingest([{ model: 'm', id: 'bad', message: {} }]);
    await engine.idle();
    expect(engine.twin('m', 'bad')!.lastError).toBeNull();
  });

  it('counts a process result that is not update, none or remove as a model error', async () => {
    const m = defineModel<object, object>({ name: 'm', init: () => ({}), process: () => 'yes' as never });
    const { engine } = await startEngine([m]);
    await engine.ingest([{ model: 'm', id: 'a', message: {} }]);
    await engine.idle();
    expect(engine.twin('m', 'a')!.lastError?.message).toMatch(/expected 'update', 'none' or 'remove'/);
  });
});

describe('Twin-to-twin messages', () => {
  const relay = defineModel<{ got: JsonValue[] }, { hop: number; to?: string }>({
    name: 'relay',
    init: () => ({ got: [] }),
    process(ctx, s, msgs) {
      for (const m of msgs) {
        s.got.push(m.hop);
        if (m.to) ctx.sendToTwin('relay', m.to, { hop: m.hop + 1 });
      }
      return 'update';
    },
  });

  it('creates the target twin and delivers after the batch', async () => {
    const { engine } = await startEngine([relay]);
    await engine.ingest([{ model: 'relay', id: 'a', message: { hop: 0, to: 'b' } }]);
    await engine.idle();
    expect(engine.twin('relay', 'b')!.state).toEqual({ got: [1] });
  });

  it('cuts an endless ping-pong with MESSAGE_LOOP', async () => {
    const ping = defineModel<{ n: number }, object>({
      name: 'ping',
      init: () => ({ n: 0 }),
      process(ctx, s) {
        s.n++;
        ctx.sendToTwin('ping', ctx.id === 'a' ? 'b' : 'a', {});
        return 'update';
      },
    });
    const { engine } = await startEngine([ping]);
    const codes: string[] = [];
    engine.on('modelError', (e) => codes.push(e.code));
    await engine.ingest([{ model: 'ping', id: 'a', message: {} }]);
    await engine.idle();
    expect(codes).toEqual(['MESSAGE_LOOP']);
    const total = (engine.twin('ping', 'a')!.state as { n: number }).n + (engine.twin('ping', 'b')!.state as { n: number }).n;
    expect(total).toBe(33);
  });

  it('throws UNKNOWN_MODEL from sendToTwin for a model that does not exist, failing that batch', async () => {
    const bad = defineModel<object, object>({ name: 'bad', init: () => ({}), process: (ctx) => (ctx.sendToTwin('ghost', 'x', {}), 'update') });
    const { engine } = await startEngine([bad]);
    await engine.ingest([{ model: 'bad', id: 'a', message: {} }]);
    await engine.idle();
    expect(engine.twin('bad', 'a')!.lastError?.code).toBe('UNKNOWN_MODEL');
  });
});

describe('Timers', () => {
  const sleepy = defineModel<{ fired: string[]; at: number[] }, { start?: string; ms?: number; recurring?: boolean; stop?: string }>({
    name: 'sleepy',
    init: () => ({ fired: [], at: [] }),
    process(ctx, _s, msgs) {
      for (const m of msgs) {
        if (m.start) ctx.startTimer(m.start, m.ms ?? 1000, m.recurring ? 'recurring' : 'once');
        if (m.stop) ctx.stopTimer(m.stop);
      }
      return 'none';
    },
    onTimer(ctx, s, name) {
      s.fired.push(name);
      s.at.push(ctx.now());
      return 'update';
    },
  });

  it('fires a once timer at its time on the virtual clock, not before', async () => {
    const { engine, clock } = await startEngine([sleepy]);
    const t0 = clock.now();
    await engine.ingest([{ model: 'sleepy', id: 'a', message: { start: 'x', ms: 5000 } }]);
    await engine.idle();
    await clock.advanceTo(t0 + 4999, () => engine.idle());
    expect((engine.twin('sleepy', 'a')!.state as { fired: string[] }).fired).toEqual([]);
    await clock.advanceTo(t0 + 6000, () => engine.idle());
    expect(engine.twin('sleepy', 'a')!.state).toEqual({ fired: ['x'], at: [t0 + 5000] });
  });

  it('fires a recurring timer every period until stopped', async () => {
    const { engine, clock } = await startEngine([sleepy]);
    const t0 = clock.now();
    await engine.ingest([{ model: 'sleepy', id: 'a', message: { start: 'tick', ms: 1000, recurring: true } }]);
    await engine.idle();
    await clock.advanceTo(t0 + 3500, () => engine.idle());
    await engine.ingest([{ model: 'sleepy', id: 'a', message: { stop: 'tick' } }]);
    await engine.idle();
    await clock.advanceTo(t0 + 10_000, () => engine.idle());
    expect((engine.twin('sleepy', 'a')!.state as { at: number[] }).at).toEqual([t0 + 1000, t0 + 2000, t0 + 3000]);
  });

  it('restarting a timer replaces its deadline', async () => {
    const { engine, clock } = await startEngine([sleepy]);
    const t0 = clock.now();
    await engine.ingest([{ model: 'sleepy', id: 'a', message: { start: 'x', ms: 1000 } }]);
    await engine.idle();
    await clock.advanceTo(t0 + 500, () => engine.idle());
    await engine.ingest([{ model: 'sleepy', id: 'a', message: { start: 'x', ms: 1000 } }]);
    await engine.idle();
    await clock.advanceTo(t0 + 5000, () => engine.idle());
    expect((engine.twin('sleepy', 'a')!.state as { at: number[] }).at).toEqual([t0 + 1500]);
  });

  it('bounds the number of timers per twin with TIMER_LIMIT', async () => {
    const many = defineModel<object, object>({
      name: 'many',
      init: () => ({}),
      process(ctx) {
        for (let i = 0; i < 17; i++) ctx.startTimer(`t${i}`, 1000);
        return 'update';
      },
    });
    const { engine } = await startEngine([many]);
    await engine.ingest([{ model: 'many', id: 'a', message: {} }]);
    await engine.idle();
    expect(engine.twin('many', 'a')!.lastError?.code).toBe('TIMER_LIMIT');
  });
});

describe('Effects', () => {
  it('raises alerts and commands only after a successful batch, in order', async () => {
    const m = defineModel<object, { cmd: string }>({
      name: 'm',
      init: () => ({}),
      process(ctx, _s, msgs) {
        for (const x of msgs) {
          ctx.sendToSource({ do: x.cmd });
          ctx.alert({ severity: 'WARNING', title: x.cmd });
        }
        return 'update';
      },
    });
    const { engine } = await startEngine([m]);
    const cmds: JsonValue[] = [];
    engine.on('command', (c) => cmds.push(c.record.command));
    await engine.ingest(
      [
        { model: 'm', id: 'a', message: { cmd: 'one' } },
        { model: 'm', id: 'a', message: { cmd: 'two' } },
      ],
      { source: { connector: 'rest' } },
    );
    await engine.idle();
    expect(cmds).toEqual([{ do: 'one' }, { do: 'two' }]);
    expect(engine.alerts().map((a) => a.title)).toEqual(['two', 'one']);
    expect(engine.pendingCommands('m', 'a').map((c) => c.command)).toEqual([{ do: 'one' }, { do: 'two' }]);
    const first = engine.pendingCommands('m', 'a')[0]!.cid;
    expect(await engine.ackCommands('m', 'a', [first])).toBe(1);
    expect(engine.pendingCommands('m', 'a').map((c) => c.command)).toEqual([{ do: 'two' }]);
  });

  it('shares per-model data between twins of a model', async () => {
    const m = defineModel<{ seen: number }, object>({
      name: 'm',
      init: () => ({ seen: 0 }),
      process(ctx, s) {
        const n = (ctx.shared.get<number>('count') ?? 0) + 1;
        ctx.shared.set('count', n);
        s.seen = n;
        return 'update';
      },
    });
    const { engine } = await startEngine([m]);
    await engine.ingest([{ model: 'm', id: 'a', message: {} }]);
    await engine.idle();
    await engine.ingest([{ model: 'm', id: 'b', message: {} }]);
    await engine.idle();
    expect(engine.twin('m', 'b')!.state).toEqual({ seen: 2 });
  });
});

describe('Restart', () => {
  it('restores twins from the checkpoint and replays the log past it exactly once', async () => {
    const store = new MemoryStore();
    const a = await startEngine([recorder], { store, checkpointMs: 60_000 });
    await a.engine.ingest([env('x', 1), env('y', 1)]);
    await a.engine.idle();
    await a.engine.checkpoint();
    await a.engine.ingest([env('x', 2)]);
    await a.engine.idle();
    // crash: no stop(), no final checkpoint. A new engine opens the same store.
    const b = await startEngine([recorder], { store, checkpointMs: 60_000 });
    expect((b.engine.twin('rec', 'x')!.state as RecorderState).seen).toEqual([1, 2]);
    expect((b.engine.twin('rec', 'y')!.state as RecorderState).seen).toEqual([1]);
    await b.engine.stop();
    const c = await startEngine([recorder], { store, checkpointMs: 60_000 });
    expect((c.engine.twin('rec', 'x')!.state as RecorderState).seen).toEqual([1, 2]);
    expect(store.logSize).toBe(0);
  });

  it('keeps twin-to-twin messages that were pending at a checkpoint', async () => {
    const store = new MemoryStore();
    const a = await startEngine([forwarder], { store, checkpointMs: 60_000 });
    // checkpoint right after the sender ran but before the receiver ran
    a.engine.on('twinChanged', (e) => {
      if (e.twin.id === 'sender') void a.engine.checkpoint();
    });
    await a.engine.ingest([{ model: 'fwd', id: 'sender', message: { to: 'receiver' } }]);
    const b = await startEngine([forwarder], { store, checkpointMs: 60_000 });
    expect(b.engine.twin('fwd', 'sender')!.state).toEqual({ got: 1 });
    expect(b.engine.twin('fwd', 'receiver')!.state).toEqual({ got: 1 });
  });

  it('restores timers with the twin', async () => {
    const store = new MemoryStore();
    const t = defineModel<{ fired: number }, object>({
      name: 't',
      init: () => ({ fired: 0 }),
      process: (ctx) => (ctx.startTimer('wake', 60_000), 'update'),
      onTimer: (_c, s) => (s.fired++, 'update'),
    });
    const a = await startEngine([t], { store, checkpointMs: 60_000 });
    await a.engine.ingest([{ model: 't', id: 'a', message: {} }]);
    await a.engine.idle();
    await a.engine.checkpoint();
    const b = await startEngine([t], { store, checkpointMs: 60_000, clock: a.clock });
    await a.clock.advanceTo(a.clock.now() + 61_000, () => b.engine.idle());
    expect(b.engine.twin('t', 'a')!.state).toEqual({ fired: 1 });
  });

  it('does not bring back a removed twin on replay', async () => {
    const store = new MemoryStore();
    const a = await startEngine([recorder], { store, checkpointMs: 60_000 });
    await a.engine.ingest([env('x', 1)]);
    await a.engine.idle();
    await a.engine.removeTwin('rec', 'x');
    await a.engine.idle();
    const b = await startEngine([recorder], { store, checkpointMs: 60_000 });
    expect(b.engine.twin('rec', 'x')).toBeUndefined();
  });
});

describe('Bad input at the store', () => {
  it('refuses a message the log cannot encode with INVALID_MESSAGE, and keeps serving', async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const path = await import('node:path');
    const { LmdbStore } = await import('../../src/store/lmdb-store.js');
    const { engine } = await startEngine([recorder], { store: new LmdbStore(mkdtempSync(path.join(tmpdir(), 'hextwin-deep-'))) });
    let deep: JsonValue = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    await expect(engine.ingest([{ model: 'rec', id: 'a', message: { n: 1, deep } as JsonValue }])).rejects.toMatchObject({ code: 'INVALID_MESSAGE' });
    await engine.ingest([env('a', 2)]);
    await engine.idle();
    expect(engine.failure).toBeNull();
    expect((engine.twin('rec', 'a')!.state as RecorderState).seen).toEqual([2]);
  });
});
