/**
 * An owner cut off from NATS (the nats-server started here is killed): within the TTL it stops
 * firing timers and keeps its alerts back; once NATS is back and its leases are confirmed, the
 * timers fire again and what it kept back goes out.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineModel } from '@hextwin/shared';
import type { ClusterNode } from '../../src/cluster/cluster-node.js';
import { startNats, type NatsHandle } from '../../../test/kit/nats.js';
import { clusterNode, eventually } from './helpers.js';

const TTL = 2_000;

/** Ticks every 50 ms once started, raising an INFO alert each tick. */
const ticker = defineModel<{ ticks: number }, { start: boolean }>({
  name: 'ticker',
  init: () => ({ ticks: 0 }),
  process(ctx) {
    ctx.startTimer('tick', 50, 'recurring');
    return 'none';
  },
  onTimer(ctx, s) {
    s.ticks++;
    ctx.alert({ severity: 'INFO', title: `tick ${s.ticks}` });
    return 'update';
  },
});

let nats: NatsHandle;
let node: ClusterNode;
let alerts = 0;
const ticks = () => (node.twin('ticker', 'k1')?.state as { ticks: number } | undefined)?.ticks ?? 0;

beforeAll(async () => {
  nats = await startNats();
  node = clusterNode(nats.url, 'solo', [ticker], { nodeTtlMs: TTL });
  await node.start();
  node.on('alert', () => void alerts++);
});
afterAll(async () => {
  await node?.stop();
  await nats?.cleanup();
});

describe('An owner cut off from NATS', () => {
  it('stops firing timers and sending alerts within the TTL, and resumes once its leases are confirmed', async () => {
    await node.ingest([{ model: 'ticker', id: 'k1', message: { start: true } }]);
    await eventually('the timer firing', ticks, (n) => n >= 3);

    const killedAt = Date.now();
    await nats.kill();
    await eventually(
      'the node holding its partitions',
      () => node.fenced,
      (f) => f,
      TTL * 3,
    );
    expect(node.fencedSince - killedAt, 'held within the TTL of losing NATS').toBeLessThanOrEqual(TTL);
    expect(node.status().fenced).toBe(true);
    await node.idle();
    const ticksHeld = ticks();
    const alertsHeld = alerts;
    // ten timer periods: a timer still firing would have ticked several times
    await new Promise((r) => setTimeout(r, 500));
    await node.idle();
    expect(ticks(), 'no timer fired while cut off').toBe(ticksHeld);
    expect(alerts, 'no alert left while cut off').toBe(alertsHeld);
    await expect(node.sendCommand('ticker', 'k1', { go: 1 })).rejects.toMatchObject({ code: 'CLUSTER_UNAVAILABLE' });

    nats = await nats.restart();
    await eventually(
      'the node acting as owner again',
      () => node.fenced,
      (f) => !f,
      30_000,
    );
    await eventually('the timer firing again', ticks, (n) => n > ticksHeld + 2);
    expect(alerts).toBeGreaterThan(alertsHeld);
    expect(node.localPartitions()).toHaveLength(256);
  });
});
