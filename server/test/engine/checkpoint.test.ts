import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LmdbStore } from '../../src/store/lmdb-store.js';
import { forwarder, startEngine } from './helpers.js';

describe('Checkpoints', () => {
  it('a large checkpoint written in slices while ingest goes on is a consistent cut for a crash restart', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'hextwin-cp-'));
    const N = 6_000;
    const a = await startEngine([forwarder], { store: new LmdbStore(dir), checkpointMs: 3_600_000 });
    const wave = (k: number) => Array.from({ length: N }, (_, i) => ({ model: 'fwd', id: `a${i}`, message: { to: `b${(i + k) % N}` } }));
    await a.engine.ingest(wave(0));
    await a.engine.idle();
    // start a sliced checkpoint, and keep ingesting and forwarding while it runs
    const cp = a.engine.checkpoint();
    const more = a.engine.ingest(wave(1));
    await Promise.all([cp, more]);
    await a.engine.idle();
    const third = a.engine.checkpoint();
    await a.engine.ingest(wave(2));
    await third;
    await a.engine.idle();
    // crash: no stop(), no final checkpoint
    const b = await startEngine([forwarder], { store: new LmdbStore(dir), checkpointMs: 3_600_000 });
    for (let i = 0; i < N; i += 997) {
      expect(b.engine.twin('fwd', `a${i}`)!.state, `a${i}`).toEqual({ got: 3 });
      expect(b.engine.twin('fwd', `b${i}`)!.state, `b${i}`).toEqual({ got: 3 });
    }
    let total = 0;
    for (const t of b.engine.twins('fwd')) total += (t.state as { got: number }).got;
    expect(total).toBe(6 * N);
    await b.engine.stop();
  });

  it('commits a round only after every beforeCheckpointCommit hook has resolved, with the changes of the cut already emitted', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'hextwin-cp-'));
    const a = await startEngine([forwarder], { store: new LmdbStore(dir), checkpointMs: 3_600_000 });
    const seen: string[] = [];
    a.engine.on('twinChanged', (e) => seen.push(e.twin.id));
    let release!: () => void;
    let hookSaw: string[] = [];
    const off = a.engine.beforeCheckpointCommit(async () => {
      hookSaw = [...seen];
      await new Promise<void>((r) => (release = r));
    });
    await a.engine.ingest([{ model: 'fwd', id: 'x', message: {} }]);
    await a.engine.idle();
    let committed = false;
    const cp = a.engine.checkpoint().then(() => (committed = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(committed).toBe(false);
    expect(hookSaw).toContain('x');
    release();
    await cp;
    expect(committed).toBe(true);
    off();
    await a.engine.checkpoint(); // no hook now: does not wait
    await a.engine.stop();
  });
});
