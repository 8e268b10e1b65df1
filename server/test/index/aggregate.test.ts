import { describe, expect, it } from 'vitest';
import { latLngToCell } from 'h3-js';
import { aggregate, hexAggregate } from '../../src/index/aggregate.js';
import { LiveAggregate, type LiveAggregateSpec } from '../../src/index/live-aggregate.js';
import { rng, Twins } from './helpers.js';

describe('aggregate', () => {
  const w = new Twins();
  w.put('a', { region: 'east', load: 10, temp: 20 });
  w.put('b', { region: 'east', load: 30, temp: 'hot' });
  w.put('c', { region: 'west', load: 5 });
  w.put('d', { load: 1 });
  w.put('e', { region: 'east' });

  it('groups by a field with metrics in the order given, largest group first', () => {
    const groups = aggregate(w.index, {
      groupBy: 'region',
      metrics: [
        { op: 'COUNT' },
        { field: 'load', op: 'SUM' },
        { field: 'load', op: 'AVG' },
        { field: 'load', op: 'MIN' },
        { field: 'load', op: 'MAX' },
        { field: 'temp', op: 'COUNT' },
      ],
    });
    expect(groups).toEqual([
      { key: 'east', count: 3, values: [3, 40, 20, 10, 30, 1] },
      { key: 'west', count: 1, values: [1, 5, 5, 5, 5, 0] },
      { key: null, count: 1, values: [1, 1, 1, 1, 1, 0] },
    ]);
  });
  it('leaves out twins whose field is missing or not a number, and gives null over no values', () => {
    expect(
      aggregate(w.index, {
        where: { field: 'region', op: 'EQ', value: 'west' },
        metrics: [
          { field: 'temp', op: 'AVG' },
          { field: 'temp', op: 'MAX' },
        ],
      }),
    ).toEqual([{ key: null, count: 1, values: [null, null] }]);
  });
  it('gives one group with key null without groupBy, even over no twins', () => {
    expect(aggregate(w.index, {})).toEqual([{ key: null, count: 5, values: [] }]);
    expect(aggregate(w.index, { where: { field: 'load', op: 'GT', value: 1000 }, metrics: [{ op: 'COUNT' }, { field: 'load', op: 'SUM' }] })).toEqual([
      { key: null, count: 0, values: [0, null] },
    ]);
  });
  it('refuses SUM without a field', () => {
    expect(() => aggregate(w.index, { metrics: [{ op: 'SUM' }] })).toThrow(/needs a field/);
  });
});

describe('hexAggregate', () => {
  it('groups located twins by the H3 cell at the resolution, as latLngToCell does', () => {
    const w = new Twins();
    const rand = rng(5);
    const expected = new Map<string, { count: number; sum: number }>();
    for (let i = 0; i < 2000; i++) {
      const lat = 40 + rand() * 2;
      const lng = -75 + rand() * 2;
      const v = Math.floor(rand() * 10);
      w.put('t' + i, { v }, { lat, lng });
      const c = latLngToCell(lat, lng, 5);
      const e = expected.get(c) ?? { count: 0, sum: 0 };
      e.count++;
      e.sum += v;
      expected.set(c, e);
    }
    w.put('unlocated', { v: 100 });
    const bins = hexAggregate(w.index, { resolution: 5, metrics: [{ field: 'v', op: 'SUM' }] });
    expect(bins.map((b) => [b.cell, b.count, b.values[0]]).sort()).toEqual([...expected].map(([c, e]) => [c, e.count, e.sum]).sort());
    for (let i = 1; i < bins.length; i++) expect(bins[i - 1]!.count).toBeGreaterThanOrEqual(bins[i]!.count);
  });
  it('refuses a resolution outside 0..15', () => {
    expect(() => hexAggregate(new Twins().index, { resolution: 16 })).toThrow(/resolution/);
  });
});

describe('live aggregates', () => {
  const specs: LiveAggregateSpec[] = [
    {
      kind: 'group',
      groupBy: 'g',
      metrics: [{ op: 'COUNT' }, { field: 'v', op: 'SUM' }, { field: 'v', op: 'AVG' }, { field: 'v', op: 'MIN' }, { field: 'v', op: 'MAX' }],
    },
    { kind: 'group', where: { field: 'v', op: 'GTE', value: 3 }, metrics: [{ field: 'v', op: 'MAX' }] },
    {
      kind: 'hex',
      resolution: 4,
      metrics: [
        { field: 'v', op: 'MIN' },
        { field: 'v', op: 'MAX' },
      ],
    },
    { kind: 'hex', resolution: 6, where: { field: 'g', op: 'NE', value: 'b' } },
  ];

  it.each(specs.map((s, i) => [i, s] as const))('spec %i stays equal to a full recomputation through creates, updates, moves and removals', (_i, spec) => {
    const rand = rng(42);
    const w = new Twins();
    const place = () => (rand() < 0.15 ? undefined : { lat: 10 + rand() * 3, lng: 20 + rand() * 3 });
    const state = () => ({ g: ['a', 'b', 'c'][Math.floor(rand() * 3)], ...(rand() < 0.9 ? { v: Math.floor(rand() * 10) } : {}) });
    for (let i = 0; i < 300; i++) w.put('t' + i, state(), place());
    const live = new LiveAggregate(w.index, spec);
    const full = () =>
      spec.kind === 'hex'
        ? hexAggregate(w.index, { resolution: spec.resolution, where: spec.where, metrics: spec.metrics })
        : aggregate(w.index, { where: spec.where, groupBy: spec.groupBy, metrics: spec.metrics });
    const snap = () => (spec.kind === 'hex' ? live.binsSnapshot() : live.groupsSnapshot());
    for (let round = 0; round < 30; round++) {
      for (let k = 0; k < 40; k++) {
        const id = 't' + Math.floor(rand() * 400);
        if (w.byId.has(id) && rand() < 0.2) w.remove(id);
        else w.put(id, state(), place());
      }
      live.refresh();
      expect(snap()).toEqual(full());
    }
    live.close();
  });

  it('only marks changes until refreshed', () => {
    const w = new Twins();
    w.put('a', { v: 1 });
    const live = new LiveAggregate(w.index, { kind: 'group', metrics: [{ field: 'v', op: 'SUM' }] });
    const v0 = live.version;
    w.put('a', { v: 5 });
    expect(live.pending).toBe(1);
    expect(live.version).toBe(v0);
    live.refresh();
    expect(live.groupsSnapshot()).toEqual([{ key: null, count: 1, values: [5] }]);
    w.put('a', { v: 5 });
    const v1 = live.version;
    live.refresh();
    expect(live.version).toBe(v1);
  });
});
