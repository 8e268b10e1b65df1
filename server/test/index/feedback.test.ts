import { afterEach, describe, expect, it } from 'vitest';
import { defineModel, type AggregateGroup, type JsonValue } from '@hextwin/shared';
import { createWorkbench, type Workbench } from '../../src/workbench.js';

let wb: Workbench | undefined;
afterEach(async () => {
  await wb?.close();
  wb = undefined;
});

interface Reading {
  region: string;
  delay: number;
}

/** Twins that report a region and a delay, and remember what their region's aggregate said. */
const vehicle = defineModel<{ region: string | null; delay: number | null; seen: JsonValue; all: JsonValue }, Reading | { probe: string }>({
  name: 'vehicle',
  aggregates: {
    byRegion: { model: 'vehicle', groupBy: 'region', metrics: [{ field: 'delay', op: 'AVG' }, { op: 'COUNT' }], everyMs: 5_000 },
    late: { model: 'vehicle', where: { field: 'delay', op: 'GT', value: 10 } },
  },
  init: () => ({ region: null, delay: null, seen: null, all: null }),
  process(ctx, state, messages) {
    for (const m of messages) {
      if ('probe' in m) {
        if (m.probe === 'all') state.all = ctx.aggregate('byRegion') as unknown as JsonValue;
        else if (m.probe === 'late') state.seen = ctx.aggregate('late', null) as unknown as JsonValue;
        else if (m.probe === 'nope') ctx.aggregate('nope');
        return 'update';
      }
      state.region = m.region;
      state.delay = m.delay;
    }
    if (state.region !== null) state.seen = (ctx.aggregate('byRegion', state.region) ?? null) as unknown as JsonValue;
    return 'update';
  },
});

const seen = (id: string) => wb!.state<{ seen: AggregateGroup | null }>('vehicle', id)!.seen;

describe('ctx.aggregate', () => {
  it('sees a change only after the aggregate refreshes (everyMs on the engine clock)', async () => {
    wb = await createWorkbench({ models: [vehicle] });
    await wb.send('vehicle', 'a', { region: 'north', delay: 10 });
    // nothing was refreshed yet: the group does not exist
    expect(seen('a')).toBeNull();
    await wb.advance(5_000);
    await wb.send('vehicle', 'b', { region: 'north', delay: 30 });
    expect(seen('b')).toEqual({ key: 'north', count: 1, values: [10, 1] });
    await wb.advance(5_000);
    await wb.send('vehicle', 'b', { region: 'north', delay: 30 });
    expect(seen('b')).toEqual({ key: 'north', count: 2, values: [20, 2] });
  });

  it('looks a group up by key, and returns every group without one', async () => {
    wb = await createWorkbench({ models: [vehicle] });
    await wb.send('vehicle', 'a', { region: 'north', delay: 10 });
    await wb.send('vehicle', 'b', { region: 'south', delay: 40 });
    await wb.send('vehicle', 'c', { region: 'south', delay: 20 });
    await wb.advance(5_000);
    await wb.send('vehicle', 'a', { region: 'north', delay: 10 });
    expect(seen('a')).toEqual({ key: 'north', count: 1, values: [10, 1] });
    await wb.send('vehicle', 'c', { probe: 'all' });
    expect(wb.state<{ all: unknown }>('vehicle', 'c')!.all).toEqual([
      { key: 'south', count: 2, values: [30, 2] },
      { key: 'north', count: 1, values: [10, 1] },
    ]);
  });

  it('gives an aggregate without groupBy as the group with key null, refreshed every second by default', async () => {
    wb = await createWorkbench({ models: [vehicle] });
    await wb.send('vehicle', 'a', { region: 'north', delay: 50 });
    await wb.send('vehicle', 'b', { region: 'north', delay: 5 });
    await wb.advance(1_000);
    await wb.send('vehicle', 'a', { probe: 'late' });
    expect(seen('a')).toEqual({ key: null, count: 1, values: [] });
  });

  it('refuses an undeclared name with UNKNOWN_AGGREGATE, failing that batch alone', async () => {
    wb = await createWorkbench({ models: [vehicle] });
    await wb.send('vehicle', 'a', { probe: 'nope' });
    expect(wb.errors).toHaveLength(1);
    expect(wb.errors[0]!.error).toMatchObject({ code: 'UNKNOWN_AGGREGATE' });
    expect(String((wb.errors[0]!.error as Error).message)).toContain('"nope"');
  });

  it('stops the start when a declared aggregate names an unknown model', async () => {
    const broken = defineModel({ name: 'broken', aggregates: { x: { model: 'ghost' } }, init: () => ({}), process: () => 'none' });
    await expect(createWorkbench({ models: [broken] })).rejects.toMatchObject({ code: 'MODEL_INVALID' });
  });
});
