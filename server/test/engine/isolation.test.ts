/**
 * A model cannot take the engine down: effects it cannot have, async batches that never settle,
 * states that cannot be stored, twins past the limits, timers restarted on every batch.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { defineModel, type LogLevel } from '@hextwin/shared';
import { Engine } from '../../src/engine/engine.js';
import { VirtualClock } from '../../src/engine/clock.js';
import { LmdbStore } from '../../src/store/lmdb-store.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { silent, startEngine } from './helpers.js';

const fx = defineModel<{ n: number; bad?: unknown }, { kind: string }>({
  name: 'fx',
  init: () => ({ n: 0 }),
  process(ctx, s, msgs) {
    for (const m of msgs) {
      s.n++;
      if (m.kind === 'bad-level') ctx.log('loud' as LogLevel, 'x');
      if (m.kind === 'cyclic-alert') {
        const data: Record<string, unknown> = {};
        data.self = data;
        ctx.alert({ severity: 'WARNING', title: 'cycle', data: data as never });
      }
      if (m.kind === 'bigint-command') ctx.sendToSource({ n: 1n } as never);
      if (m.kind === 'ok-alert') ctx.alert({ severity: 'INFO', title: 'fine' });
      if (m.kind === 'unencodable') s.bad = s; // a cycle: the encoder recurses until the stack ends
    }
    return 'update';
  },
});

describe('Effects', () => {
  it('fails a batch that asks for a log level that does not exist with INVALID_EFFECT, and goes on', async () => {
    const { engine } = await startEngine([fx]);
    await engine.ingest([{ model: 'fx', id: 'a', message: { kind: 'bad-level' } }]);
    await engine.idle();
    expect(engine.twin('fx', 'a')!.lastError?.code).toBe('INVALID_EFFECT');
    await engine.ingest([{ model: 'fx', id: 'a', message: { kind: 'ok-alert' } }]);
    await engine.idle();
    expect(engine.twin('fx', 'a')!.lastError).toBeNull();
    expect(engine.alerts().map((a) => a.title)).toEqual(['fine']);
  });

  it('refuses alert data with a cycle and commands holding a BigInt, without raising or queueing anything', async () => {
    const { engine } = await startEngine([fx]);
    await engine.ingest([
      { model: 'fx', id: 'b', message: { kind: 'cyclic-alert' } },
      { model: 'fx', id: 'c', message: { kind: 'bigint-command' } },
    ]);
    await engine.idle();
    expect(engine.twin('fx', 'b')!.lastError?.code).toBe('INVALID_EFFECT');
    expect(engine.twin('fx', 'c')!.lastError?.code).toBe('INVALID_EFFECT');
    expect(engine.alerts()).toEqual([]);
    expect(engine.pendingCommands('fx', 'c')).toEqual([]);
  });
});

describe('Time budget', () => {
  it('fails an async batch that never settles with MODEL_TIMEOUT, quarantines the twin, and lets stop() finish', async () => {
    const hang = defineModel<{ n: number }, { hang?: boolean }>({
      name: 'hang',
      init: () => ({ n: 0 }),
      process(_ctx, s, msgs) {
        s.n += msgs.length;
        if (msgs.some((m) => m.hang)) return new Promise(() => {});
        return 'update';
      },
    });
    const engine = new Engine({
      store: new MemoryStore(),
      clock: new VirtualClock(0),
      models: [hang],
      logger: silent,
      checkpointMs: 0,
      modelAsyncTimeoutMs: 50,
    });
    await engine.start();
    await engine.ingest([{ model: 'hang', id: 'h', message: { hang: true } }]);
    await engine.ingest([{ model: 'hang', id: 'ok', message: {} }]);
    await engine.idle();
    expect(engine.twin('hang', 'h')!.lastError?.code).toBe('MODEL_TIMEOUT');
    expect(engine.quarantined().map((q) => [q.model, q.id, q.code])).toEqual([['hang', 'h', 'MODEL_TIMEOUT']]);
    await expect(engine.ingest([{ model: 'hang', id: 'h', message: {} }])).rejects.toMatchObject({ code: 'TWIN_QUARANTINED' });
    await engine.ingest([{ model: 'hang', id: 'ok', message: {} }]);
    await engine.idle();
    expect(engine.twin('hang', 'ok')!.state).toEqual({ n: 2 });
    expect(await engine.releaseQuarantine('hang', 'h')).toBe(true);
    await engine.ingest([{ model: 'hang', id: 'h', message: {} }]);
    await engine.idle();
    expect(engine.twin('hang', 'h')!.state).toEqual({ n: 2 });
    await engine.stop();
  });

  it('keeps a quarantine across a restart', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'hextwin-q-'));
    const hang = defineModel<{ n: number }, { hang?: boolean }>({
      name: 'hang',
      init: () => ({ n: 0 }),
      process: (_c, _s, msgs) => (msgs.some((m) => m.hang) ? new Promise(() => {}) : 'update'),
    });
    const opts = { clock: new VirtualClock(0), models: [hang], logger: silent, checkpointMs: 0, modelAsyncTimeoutMs: 30 };
    const a = new Engine({ ...opts, store: new LmdbStore(dir) });
    await a.start();
    await a.ingest([{ model: 'hang', id: 'h', message: { hang: true } }]);
    await a.idle();
    await a.stop();
    const b = new Engine({ ...opts, store: new LmdbStore(dir) });
    await b.start();
    expect(b.quarantined().map((q) => q.id)).toEqual(['h']);
    await expect(b.ingest([{ model: 'hang', id: 'h', message: {} }])).rejects.toMatchObject({ code: 'TWIN_QUARANTINED' });
    await b.stop();
  });
});

describe('Checkpoint of a state that cannot be stored', () => {
  it('quarantines that twin and writes the rest, so a restart has them', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'hextwin-enc-'));
    const a = await startEngine([fx], { store: new LmdbStore(dir) });
    await a.engine.ingest([
      { model: 'fx', id: 'good', message: { kind: 'x' } },
      { model: 'fx', id: 'evil', message: { kind: 'unencodable' } },
    ]);
    await a.engine.idle();
    await a.engine.checkpoint();
    expect(a.engine.quarantined().map((q) => [q.id, q.code])).toEqual([['evil', 'STATE_UNENCODABLE']]);
    await a.engine.ingest([{ model: 'fx', id: 'good', message: { kind: 'x' } }]);
    await a.engine.idle();
    await a.engine.checkpoint();
    // crash: no stop()
    const b = await startEngine([fx], { store: new LmdbStore(dir) });
    expect(b.engine.twin('fx', 'good')!.state).toEqual({ n: 2 });
    expect(b.engine.quarantined().map((q) => q.id)).toEqual(['evil']);
    await b.engine.stop();
  });
});

describe('Twin limits', () => {
  it('refuses a batch that would create twins past MAX_TWINS_PER_MODEL with TOO_MANY_TWINS, and still takes messages for existing twins', async () => {
    const engine = new Engine({ store: new MemoryStore(), clock: new VirtualClock(0), models: [fx], logger: silent, checkpointMs: 0, maxTwinsPerModel: 3 });
    await engine.start();
    await engine.ingest(['a', 'b', 'c'].map((id) => ({ model: 'fx', id, message: { kind: 'x' } })));
    await expect(engine.ingest([{ model: 'fx', id: 'd', message: { kind: 'x' } }])).rejects.toMatchObject({ code: 'TOO_MANY_TWINS' });
    await engine.ingest([{ model: 'fx', id: 'a', message: { kind: 'x' } }]);
    await engine.idle();
    expect(engine.twinCount('fx')).toBe(3);
    expect(engine.twin('fx', 'a')!.state).toEqual({ n: 2 });
    await engine.stop();
  });

  it('refuses a mixed-model batch whose later model is at MAX_TWINS_PER_MODEL, however its first model stands', async () => {
    const other = defineModel<{ n: number }, object>({ name: 'other', init: () => ({ n: 0 }), process: () => 'update' });
    const engine = new Engine({ store: new MemoryStore(), clock: new VirtualClock(0), models: [fx, other], logger: silent, checkpointMs: 0, maxTwinsPerModel: 2 });
    await engine.start();
    await engine.ingest(['a', 'b'].map((id) => ({ model: 'fx', id, message: { kind: 'x' } })));
    await expect(
      engine.ingest([
        { model: 'other', id: 'o1', message: {} },
        { model: 'fx', id: 'c', message: { kind: 'x' } },
      ]),
    ).rejects.toMatchObject({ code: 'TOO_MANY_TWINS' });
    expect(engine.twinCount('fx')).toBe(2);
    await engine.stop();
  });

  it('does not create a twin past MAX_TWINS from a twin-to-twin message', async () => {
    const fan = defineModel<{ n: number }, { to: string[] }>({
      name: 'fan',
      init: () => ({ n: 0 }),
      process(ctx, s, msgs) {
        for (const m of msgs) for (const to of m.to ?? []) ctx.sendToTwin('fan', to, { to: [] });
        s.n++;
        return 'update';
      },
    });
    const engine = new Engine({ store: new MemoryStore(), clock: new VirtualClock(0), models: [fan], logger: silent, checkpointMs: 0, maxTwins: 2 });
    await engine.start();
    await engine.ingest([{ model: 'fan', id: 'root', message: { to: ['x', 'y', 'z'] } }]);
    await engine.idle();
    expect(engine.twinCount()).toBe(2);
    await engine.stop();
  });
});

describe('Timers', () => {
  it('keeps one heap entry for a timer restarted on every batch', async () => {
    const silence = defineModel<{ n: number }, object>({
      name: 'silence',
      init: () => ({ n: 0 }),
      process(ctx, s) {
        s.n++;
        ctx.startTimer('quiet', 300_000);
        return 'update';
      },
    });
    const { engine } = await startEngine([silence]);
    for (let i = 0; i < 500; i++) {
      await engine.ingest([{ model: 'silence', id: 'g', message: {} }]);
      await engine.idle();
    }
    expect(engine.twin('silence', 'g')!.state).toEqual({ n: 500 });
    expect(engine.timerCount).toBe(1);
  });
});

describe('Copy-on-write checkpoints', () => {
  it('captures a twin whose async batch spans the cut together with what it sent, so a crash restart applies everything once', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'hextwin-late-'));
    let release: () => void = () => {};
    const slow = defineModel<{ got: number }, { to?: string; slow?: boolean }>({
      name: 'slow',
      init: () => ({ got: 0 }),
      process(ctx, s, msgs) {
        s.got += msgs.length;
        for (const m of msgs) if (m.to) ctx.sendToTwin('slow', m.to, {});
        if (msgs.some((m) => m.slow)) return new Promise((r) => (release = () => r('update')));
        return 'update';
      },
    });
    const a = await startEngine([slow], { store: new LmdbStore(dir), checkpointMs: 3_600_000 });
    await a.engine.ingest([{ model: 'slow', id: 'src', message: {} }]);
    await a.engine.idle();
    // src is dirty; its next batch is async and sends to dst; the cut comes while it is in flight
    await a.engine.ingest([{ model: 'slow', id: 'src', message: { slow: true, to: 'dst' } }]);
    const cp = a.engine.checkpoint();
    setTimeout(() => release(), 20);
    await cp;
    await a.engine.idle();
    // crash: no stop(), no further checkpoint; dst may or may not have applied the message
    const b = await startEngine([slow], { store: new LmdbStore(dir), checkpointMs: 3_600_000 });
    expect(b.engine.twin('slow', 'src')!.state).toEqual({ got: 2 });
    expect(b.engine.twin('slow', 'dst')!.state).toEqual({ got: 1 });
    await b.engine.stop();
  });
});
