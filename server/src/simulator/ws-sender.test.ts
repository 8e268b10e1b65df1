/**
 * The WebSocket sender against a small peer that speaks the ingest protocol of shared/src/protocol.ts
 * over a real loopback socket (the server's own connector has its own tests).
 */
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { CloseCode } from '@hextwin/shared/protocol';
import type { WireEnvelope } from './fleet.js';
import type { PeerOptions } from './ingest-peer.test-helper.js';
import { IngestPeer } from './ingest-peer.test-helper.js';
import { WsSender } from './ws-sender.js';

const logger = pino({ level: 'silent' });

function batch(from: number, n: number): WireEnvelope[] {
  return Array.from({ length: n }, (_, k) => ({
    model: 'grid-node',
    id: `node-${from + k}`,
    message: { type: 'status', condition: 'normal', timestamp: from + k },
  }));
}

async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function setup(opts: PeerOptions = {}, window = 8, key?: string) {
  const peer = await IngestPeer.start(opts);
  const sender = new WsSender({ url: peer.url, window, logger, key });
  cleanup.push(
    () => peer.close(),
    () => sender.close(),
  );
  return { peer, sender };
}

describe('WsSender', () => {
  it('delivers every message once in batch frames and counts the acks', async () => {
    const { peer, sender } = await setup();
    for (let b = 0; b < 10; b++) await sender.send(batch(b * 100, 100));
    expect(await sender.flush(5_000)).toBe(true);
    expect(peer.applied).toEqual(batch(0, 1000));
    expect(sender.stats).toMatchObject({ sent: 1000, acked: 1000, errors: 0, inFlight: 0 });
    const fids = peer.frames.filter((f) => f.type === 'batch').map((f) => (f as { fid: number }).fid);
    expect(new Set(fids).size).toBe(10);
  });

  it('keeps at most `window` frames awaiting their ack', async () => {
    const { peer, sender } = await setup({ answer: () => 'hold' }, 4);
    for (let b = 0; b < 4; b++) await sender.send(batch(b * 10, 10));
    let fifthSent = false;
    const fifth = sender.send(batch(40, 10)).then(() => (fifthSent = true));
    await until(() => peer.held.length === 4, 'four frames at the peer');
    expect(fifthSent).toBe(false);
    expect(sender.stats.inFlight).toBe(4);
    peer.release();
    await fifth;
    await until(() => peer.held.length === 1, 'the fifth frame');
    peer.release();
    expect(await sender.flush(5_000)).toBe(true);
    expect(sender.stats.acked).toBe(50);
  });

  it('sends unacknowledged frames again after a reconnect, resuming its session so none is applied twice', async () => {
    const { peer, sender } = await setup({ answer: (fid, attempt) => (fid === 3 && attempt === 1 ? 'drop' : 'ack') });
    for (let b = 0; b < 6; b++) await sender.send(batch(b * 10, 10));
    expect(await sender.flush(5_000)).toBe(true);
    expect(peer.applied).toEqual(batch(0, 60));
    expect(sender.stats.reconnects).toBe(1);
    expect(sender.stats.resent).toBeGreaterThanOrEqual(10);
    expect(sender.stats.acked).toBe(60);
    expect(peer.hellos).toHaveLength(2);
    expect(peer.hellos[1]!.session).toBe('s1');
  });

  it('retries a frame refused as overloaded and counts a frame refused as invalid', async () => {
    const { peer, sender } = await setup({ answer: (fid, attempt) => (fid === 1 && attempt === 1 ? 'OVERLOADED' : fid === 2 ? 'INVALID_MESSAGE' : 'ack') });
    await sender.send(batch(0, 10));
    await sender.send(batch(10, 5));
    await sender.send(batch(15, 10));
    expect(await sender.flush(5_000)).toBe(true);
    expect(sender.stats).toMatchObject({ acked: 20, errors: 5, resent: 10 });
    expect(peer.applied.map((m) => m.id).sort()).toEqual([...batch(0, 10), ...batch(15, 10)].map((m) => m.id).sort());
  });

  it('splits a batch larger than the server allows per frame', async () => {
    const { peer, sender } = await setup({ maxBatch: 30 });
    await until(() => sender.session !== undefined, 'the welcome');
    await sender.send(batch(0, 100));
    expect(await sender.flush(5_000)).toBe(true);
    const sizes = peer.frames.filter((f) => f.type === 'batch').map((f) => (f as { items: unknown[] }).items.length);
    expect(sizes).toEqual([30, 30, 30, 10]);
    expect(peer.applied).toEqual(batch(0, 100));
  });

  it('acknowledges commands from twins and hands them to the devices', async () => {
    const { peer, sender } = await setup();
    const got: unknown[] = [];
    sender.onCommand((c) => got.push(c));
    await until(() => peer.sockets.size === 1 && peer.hellos.length === 1, 'the connection');
    const ws = [...peer.sockets][0]!;
    peer.send(ws, { type: 'command', cid: 'c-1', model: 'gas-sensor', id: 'gas-houston-01', command: { command: 'shutdown', code: 100 } });
    await until(() => peer.frames.some((f) => f.type === 'cmd-ack'), 'the command ack');
    expect(peer.frames.find((f) => f.type === 'cmd-ack')).toEqual({ type: 'cmd-ack', cids: ['c-1'] });
    expect(got).toEqual([{ model: 'gas-sensor', id: 'gas-houston-01', command: { command: 'shutdown', code: 100 } }]);
    expect(sender.stats.commands).toBe(1);
  });

  it('presents its key and stops for good when the server refuses it', async () => {
    const { peer, sender } = await setup({ closeWith: CloseCode.Unauthorized }, 8, 'wrong-key');
    await until(() => peer.hellos.length === 1, 'the hello');
    expect(peer.hellos[0]!.key).toBe('wrong-key');
    await expect(
      (async () => {
        for (let k = 0; k < 100; k++) await sender.send(batch(k, 1));
      })(),
    ).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(peer.hellos).toHaveLength(1);
  });

  it('lets a send waiting for room fail once the sender is closed, instead of waiting for ever', async () => {
    const { peer, sender } = await setup({ answer: () => 'hold' }, 2);
    await sender.send(batch(0, 1));
    await sender.send(batch(1, 1));
    const third = sender.send(batch(2, 1));
    await until(() => peer.held.length === 2, 'two frames at the peer');
    // attach the expectation before closing, so the rejection is never unhandled
    const refused = expect(third).rejects.toThrow(/closed/);
    await sender.close();
    await refused;
  });
});
