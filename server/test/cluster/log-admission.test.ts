/**
 * Records published straight to a partition's log subject (not through a node's validated ingest)
 * on a real nats-server: the owner skips and counts every forged or corrupt one, keeps running, and
 * applies the valid envelopes around them — also when a new owner replays the same records.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { defineModel, partition } from '@hextwin/shared';
import { encodeRecord, pack } from '../../src/cluster/codec.js';
import { clusterNames } from '../../src/cluster/names.js';
import type { ClusterNode } from '../../src/cluster/cluster-node.js';
import type { Envelope } from '../../src/engine/types.js';
import { startNats, type NatsHandle } from '../../../test/kit/nats.js';
import { clusterNode, eventually, metricValue } from './helpers.js';

interface Meter {
  total: number;
  seen: number;
}
const meter = defineModel<Meter, { kwh: number }>({
  name: 'meter',
  messageSchema: { type: 'object', properties: { kwh: { type: 'number' } }, required: ['kwh'] },
  init: () => ({ total: 0, seen: 0 }),
  process(_ctx, s, msgs) {
    for (const m of msgs) {
      s.total += m.kwh;
      s.seen++;
    }
    return 'update';
  },
});

const names = clusterNames('hextwin');
let nats: NatsHandle;
let raw: NatsConnection;
let node: ClusterNode & { registry: import('prom-client').Registry };

beforeAll(async () => {
  nats = await startNats();
  raw = await connect({ servers: nats.url });
  node = clusterNode(nats.url, 'owner', [meter], { checkpointMs: 100_000 });
  await node.start();
});
afterAll(async () => {
  await node?.stop();
  await raw?.close();
  await nats?.cleanup();
});

/** A twin id of the meter model in partition `p` other than those listed. */
function idIn(p: number, not: string[] = []): string {
  for (let i = 0; ; i++) if (partition('meter', `m${i}`) === p && !not.includes(`m${i}`)) return `m${i}`;
}

function nested(depth: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = { v };
  return v;
}

const rejected = (reason: string) => metricValue(node.registry, 'hextwin_cluster_log_rejected_total', { reason });

describe('Records published straight to a partition subject', () => {
  it('skips and counts forged envelopes, applies the valid ones around them, and keeps running', async () => {
    const js = jetstream(raw);
    const p = partition('meter', 'target');
    const other = idIn((p + 1) % 256);
    const publish = (data: Uint8Array) => js.publish(names.logSubject(p), data);
    const group = (envelopes: unknown[]) => encodeRecord({ groups: [{ source: { connector: 'rest' }, envelopes: envelopes as Envelope[] }] });

    await publish(new Uint8Array([0xc1, 0xff, 0x00])); // not msgpack at all
    await publish(pack([2, [], [null], [1_000_000_000], 0, null, null])); // a group size with no envelopes behind it
    await publish(
      group([
        { model: 'meter', id: 'target', message: { kwh: 1 } },
        { model: 'nope', id: 'target', message: { kwh: 100 } },
        { model: 'meter', id: 'bad\u0000id', message: { kwh: 100 } },
        { model: 'meter', id: 'target', message: { kwh: 'lots' } },
        { model: 'meter', id: other, message: { kwh: 100 } },
        { model: 'meter', id: 'target', message: nested(200) },
        { model: 'meter', id: 'target', message: { kwh: 2 } },
      ]),
    );
    await publish(pack([2, ['meter', 'target', { kwh: 100 }], [null], [1], -5, 'drop-table', null])); // forged hop count and control

    const t = await eventually(
      'the valid envelopes applied',
      () => node.twin('meter', 'target'),
      (t) => (t?.state as Meter | undefined)?.seen === 2,
    );
    expect(t!.state).toEqual({ total: 3, seen: 2 });
    expect(node.twin('meter', other)).toBeUndefined();
    // the forged framing comes after the group: it may be consumed a moment after the valid envelopes applied
    await eventually('every forged record counted', () => rejected('INVALID_FRAME'), (n) => n >= 4);
    expect(await rejected('INVALID_FRAME')).toBe(4); // unreadable, bad sizes, wrong partition, forged framing
    expect(await rejected('UNKNOWN_MODEL')).toBe(1);
    expect(await rejected('INVALID_ID')).toBe(1);
    expect(await rejected('INVALID_MESSAGE')).toBe(2); // schema, depth

    // still the owner, still applying
    expect(node.localPartitions()).toContain(p);
    await node.ingest([{ model: 'meter', id: 'target', message: { kwh: 4 } }]);
    await eventually(
      'a later message applied',
      () => node.twin('meter', 'target'),
      (t) => (t?.state as Meter | undefined)?.total === 7,
    );
  });

  it('gives a new owner that replays the records after a crash the same result', async () => {
    // the owner's connection dies without a checkpoint (CHECKPOINT_MS is long): the next owner replays the forged records too
    await (node as unknown as { conn: { nc: NatsConnection } }).conn.nc.close();
    node = clusterNode(nats.url, 'next-owner', [meter]);
    await node.start();
    const t = await eventually(
      'the replayed twin',
      () => node.twin('meter', 'target'),
      (t) => (t?.state as Meter | undefined)?.seen === 3,
    );
    expect(t!.state).toEqual({ total: 7, seen: 3 });
    // the replay skipped the same envelopes, counted on this node
    expect(await rejected('UNKNOWN_MODEL')).toBe(1);
    expect(await rejected('INVALID_ID')).toBe(1);
    expect(await rejected('INVALID_MESSAGE')).toBe(2);
  });
});
