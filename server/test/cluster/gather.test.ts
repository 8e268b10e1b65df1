import { describe, expect, it } from 'vitest';
import { latLngToCell } from 'h3-js';
import { PARTITIONS } from '@hextwin/shared';
import { gatherHandler, mergePartials, type GatherHost, type MetricSpec, type PartialAnswer } from '../../src/cluster/gather.js';
import { pack, unpack } from '../../src/cluster/codec.js';
import type { TwinView } from '../../src/engine/types.js';

const twin = (id: string, state: Record<string, unknown>, lat?: number, lng?: number): TwinView => ({
  model: 'm',
  id,
  state,
  lat,
  lng,
  createdAt: 0,
  updatedAt: 0,
  version: 1,
  lastError: null,
});

function host(self: string, partitions: number[], twins: TwinView[]): GatherHost {
  return {
    self,
    status: () => ({ node: self, ready: true, connected: true, partitions, twins: twins.length, viewTwins: 0, members: [] }),
    localTwins: () => twins,
    localPartitions: () => partitions,
    hasModel: (m) => m === 'm',
    compileFilter: (_m, where) => (t) => (t.state as Record<string, unknown>).region === (where as { region: string }).region,
  };
}

const ask = (h: GatherHost, req: unknown) => unpack<PartialAnswer>(gatherHandler(h)(pack(req))[0]!);

const metrics: MetricSpec[] = [
  { op: 'COUNT' },
  { op: 'SUM', field: 'v' },
  { op: 'AVG', field: 'v' },
  { op: 'MIN', field: 'v' },
  { op: 'MAX', field: 'v' },
  { op: 'COUNT', field: 'v' },
];

describe('Scatter-gather aggregates', () => {
  const a = [twin('1', { region: 'n', v: 1 }), twin('2', { region: 's', v: 10 }), twin('3', { region: 'n', v: 'x' })];
  const b = [twin('4', { region: 'n', v: 5 }), twin('5', { region: 's' }), twin('6', { region: 'n', v: -2 })];
  const half = Array.from({ length: PARTITIONS / 2 }, (_, i) => i);
  const other = half.map((p) => p + PARTITIONS / 2);

  it('merges partial sums into exactly what one pass over every twin gives', () => {
    const answers = [
      ask(host('a', half, a), { op: 'aggregate', model: 'm', groupBy: 'region', metrics }),
      ask(host('b', other, b), { op: 'aggregate', model: 'm', groupBy: 'region', metrics }),
    ];
    expect(mergePartials(answers, metrics, true)).toEqual({
      rows: [
        { key: 'n', count: 4, values: [4, 4, 4 / 3, -2, 5, 3] },
        { key: 's', count: 2, values: [2, 10, 10, 10, 10, 1] },
      ],
      complete: true,
      nodes: 2,
    });
  });

  it('says when some partition had no owner to answer', () => {
    const r = mergePartials([ask(host('a', half, a), { op: 'aggregate', model: 'm', metrics: [] })], [], true);
    expect(r.complete).toBe(false);
    expect(r.rows).toEqual([{ key: null, count: 3, values: [] }]);
  });

  it('groups located twins by H3 cell, and filters with the compiler the query layer registered', () => {
    const located = [
      twin('1', { region: 'n', v: 1 }, 40.7, -74),
      twin('2', { region: 'n', v: 3 }, 40.7, -74),
      twin('3', { region: 's', v: 5 }, 34, -118),
      twin('4', { region: 'n' }),
    ];
    const r = mergePartials(
      [ask(host('a', [...half, ...other], located), { op: 'hex', model: 'm', resolution: 5, metrics: [{ op: 'SUM', field: 'v' }], where: { region: 'n' } })],
      [{ op: 'SUM', field: 'v' }],
      false,
    );
    expect(r.rows).toEqual([{ key: latLngToCell(40.7, -74, 5), count: 2, values: [4] }]);
  });

  it('refuses an unknown model and a bad resolution with coded errors', () => {
    expect(() => ask(host('a', half, a), { op: 'aggregate', model: 'nope', metrics: [] })).toThrow(expect.objectContaining({ code: 'UNKNOWN_MODEL' }));
    expect(() => ask(host('a', half, a), { op: 'hex', model: 'm', resolution: 16, metrics: [] })).toThrow(expect.objectContaining({ code: 'BAD_REQUEST' }));
  });
});
