/**
 * Two cluster nodes in this process, on a real nats-server (started here, stopped by PID): commands reach the node that holds the
 * device's connection, the pull queue is visible and acknowledged from any node, and alerts are
 * acknowledged from any node.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { Registry } from 'prom-client';
import { defineModel, partition } from '@hextwin/shared';
import { ClusterNode } from '../../src/cluster/cluster-node.js';
import type { CommandRecord, SourceRef } from '../../src/engine/types.js';
import { startNats, type NatsHandle } from '../../../test/kit/nats.js';

/** Resolves with `value()` once `cond` holds on it; the error names `what` and the last value. */
async function eventually<T>(what: string, value: () => Promise<T>, cond: (v: T) => boolean, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await value();
    if (cond(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}; last: ${JSON.stringify(v)?.slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Answers every message with a command to its device, and raises an alert when told to. */
const valve = defineModel<{ n: number }, { close?: boolean; alarm?: boolean }>({
  name: 'valve',
  init: () => ({ n: 0 }),
  process(ctx, s, msgs) {
    for (const m of msgs) {
      s.n++;
      if (m.close) ctx.sendToSource({ command: 'close', n: s.n });
      if (m.alarm) ctx.alert({ severity: 'CRITICAL', title: 'alarm' });
    }
    return 'update';
  },
});

let nats: NatsHandle;
const nodes: ClusterNode[] = [];
const heard: { node: string; record: CommandRecord; source: SourceRef | null }[] = [];

beforeAll(async () => {
  nats = await startNats();
  for (const id of ['a', 'b']) {
    const node = new ClusterNode({
      natsUrl: nats.url,
      nodeId: id,
      models: [valve],
      logger: pino({ level: 'silent' }),
      registry: new Registry(),
      nodeTtlMs: 2_000,
      checkpointMs: 200,
    });
    await node.start();
    node.on('command', (c) => heard.push({ node: id, ...c }));
    nodes.push(node);
  }
  // both own their share before the tests pick twins by owner
  await eventually(
    'each node owns partitions',
    async () => nodes.map((n) => n.localPartitions().length),
    (c) => c.every((x) => x >= 120) && c[0]! + c[1]! === 256,
  );
}, 60_000);

afterAll(async () => {
  for (const n of nodes) await n.stop();
  await nats?.cleanup();
});

let twins = 0;
/** A twin id not used before whose partition `owner` runs. */
function twinOwnedBy(owner: ClusterNode): string {
  const mine = new Set(owner.localPartitions());
  for (;;) {
    const id = `v${twins++}`;
    if (mine.has(partition('valve', id))) return id;
  }
}

describe('Commands and acknowledgements across nodes', () => {
  it('delivers a command on the node that holds the device connection, not on the owner', async () => {
    const [a, b] = nodes as [ClusterNode, ClusterNode];
    const id = twinOwnedBy(b);
    await a.ingest([{ model: 'valve', id, message: { close: true } }], { source: { connector: 'ws', connection: 'conn-7' } });
    await eventually(
      'the command event',
      async () => heard.filter((h) => h.record.id === id).length,
      (n) => n >= 1,
    );
    await new Promise((r) => setTimeout(r, 100));
    const forTwin = heard.filter((h) => h.record.id === id);
    expect(forTwin.map((h) => [h.node, h.source?.connection, h.source?.node])).toEqual([['a', 'conn-7', 'a']]);
    expect(forTwin[0]!.record.command).toEqual({ command: 'close', n: 1 });
  });

  it('shows the pull queue on every node and acknowledges it from any node', async () => {
    const [a, b] = nodes as [ClusterNode, ClusterNode];
    const id = twinOwnedBy(a);
    await b.ingest(
      [
        { model: 'valve', id, message: { close: true } },
        { model: 'valve', id, message: { close: true } },
      ],
      { source: { connector: 'rest' } },
    );
    await eventually(
      'both commands queued, seen from the other node',
      async () => b.pendingCommands('valve', id).length,
      (n) => n === 2,
    );
    expect(a.pendingCommands('valve', id)).toHaveLength(2);
    const [first] = b.pendingCommands('valve', id);
    expect(await b.ackCommands('valve', id, [first!.cid])).toBe(1);
    expect(a.pendingCommands('valve', id).map((c) => c.cid)).not.toContain(first!.cid);
    await eventually(
      'the acknowledgement reaches the copy',
      async () => b.pendingCommands('valve', id).length,
      (n) => n === 1,
    );
  });

  it('sends a command from a node that does not own the twin', async () => {
    const [a, b] = nodes as [ClusterNode, ClusterNode];
    const id = twinOwnedBy(a);
    await a.ingest([{ model: 'valve', id, message: {} }], { source: { connector: 'ws', connection: 'conn-9' } });
    await eventually(
      'the twin on the other node',
      async () => b.twin('valve', id),
      (t) => t !== undefined,
    );
    const rec = await b.sendCommand('valve', id, { reboot: true });
    expect(rec).toMatchObject({ model: 'valve', id, command: { reboot: true } });
    expect(a.pendingCommands('valve', id).map((c) => c.cid)).toContain(rec.cid);
    // the device's connection is on node a: a delivers, b does not
    await eventually(
      'delivery on a',
      async () => heard.filter((h) => h.record.id === id && h.record.cid === rec.cid).map((h) => h.node),
      (n) => n.length === 1 && n[0] === 'a',
    );
  });

  it('sends commands for MQTT devices through the node holding the MQTT role', async () => {
    const holder = nodes.find((n) => n.roles.holds('mqtt'))!;
    expect(nodes.filter((n) => n.roles.holds('mqtt'))).toHaveLength(1);
    expect(holder.localPartitions()).toContain(0);
    const other = nodes.find((n) => n !== holder)!;
    const id = twinOwnedBy(other);
    await other.ingest([{ model: 'valve', id, message: { close: true } }], { source: { connector: 'mqtt' } });
    await eventually(
      'delivery by the role holder',
      async () => heard.filter((h) => h.record.id === id).map((h) => h.node),
      (n) => n.length === 1 && n[0] === holder.self,
    );
  });

  it('acknowledges an alert from any node, everywhere', async () => {
    const [a, b] = nodes as [ClusterNode, ClusterNode];
    const id = twinOwnedBy(b);
    await a.ingest([{ model: 'valve', id, message: { alarm: true } }]);
    const alert = await eventually(
      'the alert on node a',
      async () => a.twinAlerts('valve', id)[0],
      (x) => x !== undefined,
    );
    expect(a.acknowledgeAlert(alert!.id)?.acknowledged).toBe(true);
    await eventually(
      'acknowledged on the owner',
      async () => b.alerts({ model: 'valve', twinId: id })[0]?.acknowledged,
      (x) => x === true,
    );
  });

  it('aggregates over both nodes by scatter-gather', async () => {
    const [a] = nodes as [ClusterNode, ClusterNode];
    const r = await a.aggregate('valve', { metrics: [{ op: 'SUM', field: 'n' }] });
    expect(r.complete).toBe(true);
    expect(r.nodes).toBe(2);
    expect(r.rows[0]!.count).toBe(a.twinCount('valve'));
  });
});
