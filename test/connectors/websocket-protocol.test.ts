/** The WebSocket ingest protocol (shared/src/PROTOCOL.md) beyond the connector contract. */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wsTextFrame } from '@hextwin/server/bench/lib/raw-clients';
import { writeAuthFile } from '../kit/auth-file.js';
import { fixtureEnv, range } from '../kit/fixtures.js';
import { metric } from '../kit/metrics.js';
import { reportWhen } from '../kit/rest-client.js';
import { startServer, type ServerHandle } from '../kit/server.js';
import { WsClient, withTimeout } from '../kit/ws-client.js';

const ADMIN = 'ws-admin-key';
const DEVICE = 'ws-device-key';
const HEARTBEAT_MS = 300;
const RATE = 1_000;
const MAX_FRAME = 65_536;
let server: ServerHandle;

beforeAll(async () => {
  const authFile = writeAuthFile([
    { key: ADMIN, role: 'admin' },
    { key: DEVICE, role: 'device', twins: ['probe/meter-*'] },
  ]);
  server = await startServer({
    env: {
      ...fixtureEnv,
      AUTH_FILE: authFile,
      WS_HEARTBEAT_MS: String(HEARTBEAT_MS),
      RATE_LIMIT: String(RATE),
      MAX_BODY_BYTES: String(MAX_FRAME),
      MAX_BATCH: '500',
    },
  });
});
afterAll(async () => {
  await server?.stop();
});

const state = (id: string, n: number) => reportWhen(server.url, 'probe', id, (s) => s.count >= n, ADMIN);

describe('Connection', () => {
  it('answers hello with a welcome naming the session, the limits and the heartbeat, and ping with pong', async () => {
    const c = await WsClient.connect(server.url, { key: ADMIN });
    expect(c.welcome).toMatchObject({ type: 'welcome', resumed: false, maxFrameBytes: MAX_FRAME, maxBatch: 500, heartbeatMs: HEARTBEAT_MS });
    expect(typeof c.welcome!.session).toBe('string');
    const pong = new Promise((r) => c.ws.on('message', (d) => JSON.parse(d.toString()).type === 'pong' && r(true)));
    c.frame({ type: 'ping' });
    expect(await pong).toBe(true);
    await c.close();
  });

  it('takes the key from the Authorization header; the first data frame then opens the session', async () => {
    const c = await WsClient.connect(server.url, { key: DEVICE, keyInHeader: true, noHello: true });
    expect(await c.send([{ model: 'probe', id: 'meter-h', message: { seq: 1 } }])).toBe(1);
    expect(c.welcome?.resumed).toBe(false);
    await c.close();
  });

  it('refuses the upgrade with 401 for an unknown key in the header', async () => {
    await expect(WsClient.connect(server.url, { key: 'not-a-key', keyInHeader: true })).rejects.toMatchObject({ code: 'UNAUTHENTICATED', status: 401 });
  });

  it('closes with 4401 for an unknown key in hello, and for a data frame before any key', async () => {
    await expect(WsClient.connect(server.url, { key: 'not-a-key' })).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    const c = await WsClient.connect(server.url, { noHello: true });
    c.send([{ model: 'probe', id: 'meter-x', message: {} }]).catch(() => undefined);
    expect((await c.closed).code).toBe(4401);
  });

  it('drops a connection that stops answering heartbeats, and counts it', async () => {
    const before = await metric(server.url, 'hextwin_connector_dead_connections_total', { connector: 'ws' }, ADMIN);
    const inBefore = await metric(server.url, 'hextwin_connector_messages_in_total', { connector: 'ws' }, ADMIN);
    const socket = net.connect(server.port, '127.0.0.1');
    socket.on('data', () => undefined); // reads, never answers a ping
    socket.write(
      'GET /ingest HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Key: ${Buffer.from('0123456789abcdef').toString('base64')}\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer ${ADMIN}\r\n\r\n`,
    );
    await withTimeout(new Promise((r) => socket.once('close', r)), HEARTBEAT_MS * 10, 'the server to drop a silent connection');
    expect(await metric(server.url, 'hextwin_connector_dead_connections_total', { connector: 'ws' }, ADMIN)).toBe(before + 1);
  });

  it('stops reading from a client that does not read what it is sent, and drops it if that lasts', async () => {
    const before = await metric(server.url, 'hextwin_connector_dead_connections_total', { connector: 'ws' }, ADMIN);
    const inBefore = await metric(server.url, 'hextwin_connector_messages_in_total', { connector: 'ws' }, ADMIN);
    const socket = net.connect(server.port, '127.0.0.1');
    socket.on('error', () => undefined); // the server drops it while it still writes
    await new Promise<void>((resolve) => {
      socket.once('data', () => resolve()); // the 101 answer; nothing is read after it
      socket.write(
        'GET /ingest HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          `Sec-WebSocket-Key: ${Buffer.from('fedcba9876543210').toString('base64')}\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer ${ADMIN}\r\n\r\n`,
      );
    });
    socket.pause();
    // each frame asks the twin to send a 60 kB command back down this socket: far more than it reads
    const pad = 'x'.repeat(60_000);
    const frames = 400;
    for (let fid = 0; fid < frames; fid++) {
      socket.write(wsTextFrame(JSON.stringify({ type: 'msg', fid, model: 'probe', id: 'no-reader', message: { op: 'echo', command: { pad } } })));
    }
    const deadline = Date.now() + HEARTBEAT_MS * 30;
    while ((await metric(server.url, 'hextwin_connector_dead_connections_total', { connector: 'ws' }, ADMIN)) === before) {
      expect(Date.now(), 'the server to drop a client that stopped reading').toBeLessThan(deadline);
      await new Promise((r) => setTimeout(r, 50));
    }
    // it had stopped reading long before the client's frames ran out
    expect(await metric(server.url, 'hextwin_connector_messages_in_total', { connector: 'ws' }, ADMIN)).toBeLessThan(inBefore + frames / 2);
    socket.destroy();
  });
});

describe('Frames', () => {
  it('acknowledges a re-sent frame id without applying it twice', async () => {
    const c = await WsClient.connect(server.url, { key: ADMIN });
    const frame = [{ model: 'probe', id: 'resend', message: { seq: 1 } }];
    expect(await c.send(frame, 'f-1')).toBe(1);
    expect(await c.send(frame, 'f-1')).toBe(1);
    expect(await c.send([{ model: 'probe', id: 'resend', message: { seq: 2 } }], 'f-2')).toBe(1);
    expect((await state('resend', 2)).seqs).toEqual([1, 2]);
    await c.close();
  });

  it('resumes a session after a lost connection: frames re-sent on the new one are applied once', async () => {
    const a = await WsClient.connect(server.url, { key: ADMIN });
    const session = a.welcome!.session;
    await a.send([{ model: 'probe', id: 'resume', message: { seq: 0 } }], 0);
    // frame 1 goes out and the connection dies before its ack can be read
    a.send([{ model: 'probe', id: 'resume', message: { seq: 1 } }], 1).catch(() => undefined);
    a.terminate();
    await a.closed;
    const b = await WsClient.connect(server.url, { key: ADMIN, session });
    expect(b.welcome).toMatchObject({ session, resumed: true });
    expect(await b.send([{ model: 'probe', id: 'resume', message: { seq: 1 } }], 1)).toBe(1);
    expect(await b.send([{ model: 'probe', id: 'resume', message: { seq: 0 } }], 0)).toBe(1);
    expect(await b.send([{ model: 'probe', id: 'resume', message: { seq: 2 } }], 2)).toBe(1);
    const s = await state('resume', 3);
    expect(s.seqs).toEqual([0, 1, 2]);
    expect(s.dups).toBe(0);
    await b.close();
  });

  it('does not resume a session for another key', async () => {
    const a = await WsClient.connect(server.url, { key: ADMIN });
    const session = a.welcome!.session;
    await a.close();
    const b = await WsClient.connect(server.url, { key: DEVICE, session });
    expect(b.welcome!.resumed).toBe(false);
    expect(b.welcome!.session).not.toBe(session);
    await b.close();
  });

  it('refuses binary frames, unknown frame types and malformed batches with coded errors, and goes on', async () => {
    const c = await WsClient.connect(server.url, { key: ADMIN });
    c.raw(Buffer.from([1, 2, 3]), true);
    expect((await c.nextError()).code).toBe('INVALID_FRAME');
    c.raw(JSON.stringify({ type: 'teleport', fid: 9 }));
    expect((await c.nextError()).message).toContain('unknown frame type');
    const refused = c.outcome('bad-items').catch((e) => e.code);
    c.raw(JSON.stringify({ type: 'batch', fid: 'bad-items', items: [{ model: 'probe', id: 7, message: {} }] }));
    expect(await refused).toBe('INVALID_FRAME');
    expect(await c.send([{ model: 'probe', id: 'after-junk', message: { seq: 1 } }])).toBe(1);
    await c.close();
  });

  it('refuses twins outside a device key scope frame by frame with FORBIDDEN, keeping the connection', async () => {
    const c = await WsClient.connect(server.url, { key: DEVICE });
    await expect(
      c.send([
        { model: 'probe', id: 'meter-1', message: {} },
        { model: 'probe', id: 'pump-1', message: {} },
      ]),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(await c.send([{ model: 'probe', id: 'meter-1', message: { seq: 5 } }])).toBe(1);
    expect((await state('meter-1', 1)).seqs).toEqual([5]);
    await c.close();
  });

  it('closes the connection with 1009 for a frame over the size limit', async () => {
    const c = await WsClient.connect(server.url, { key: ADMIN });
    c.raw(JSON.stringify({ type: 'msg', fid: 1, model: 'probe', id: 'huge', message: { pad: 'x'.repeat(MAX_FRAME) } }));
    expect((await c.closed).code).toBe(1009);
  });

  it('throttles a connection over RATE_LIMIT, then closes it with 4429 when it ignores the throttle', async () => {
    const c = await WsClient.connect(server.url, { key: ADMIN });
    const frame = (k: number) => range(500, k * 500).map((seq) => ({ model: 'probe', id: 'flood', message: { seq } }));
    const outcomes = range(60).map((k) =>
      c.send(frame(k)).then(
        () => 'ack',
        (e) => e.code as string,
      ),
    );
    const closed = await c.closed;
    const results = await Promise.all(outcomes);
    expect(closed.code).toBe(4429);
    // the frames within the budget are acknowledged before the close
    expect(results.slice(0, 2)).toEqual(['ack', 'ack']);
    expect(results).toContain('RATE_LIMITED');
    expect(c.throttles.length).toBeGreaterThanOrEqual(1);
    expect(c.throttles[0]!.retryAfterMs).toBeGreaterThan(0);
    const s = await state('flood', 1_000);
    expect(s.count).toBeGreaterThanOrEqual(1_000);
    expect(s.dups).toBe(0);
  });
});

describe('Commands', () => {
  it('pushes commands to the connection the twin last sent from, until acknowledged', async () => {
    const c = await WsClient.connect(server.url, { key: ADMIN });
    await c.send([{ model: 'probe', id: 'cmd-live', message: { op: 'echo', command: { valve: 'close' } } }]);
    const cmd = await c.nextCommand((f) => f.id === 'cmd-live');
    expect(cmd).toMatchObject({ type: 'command', model: 'probe', id: 'cmd-live', command: { valve: 'close' } });
    c.ackCommands([cmd.cid]);
    await c.close();
  });

  it('pushes commands queued while the device was away once its twin appears on a new connection', async () => {
    const a = await WsClient.connect(server.url, { key: ADMIN });
    await a.send([{ model: 'probe', id: 'cmd-away', message: { op: 'echo', command: { n: 1 } } }]);
    await a.nextCommand((f) => f.id === 'cmd-away');
    await a.close(); // never acknowledged: it stays queued
    const b = await WsClient.connect(server.url, { key: ADMIN });
    await b.send([{ model: 'probe', id: 'cmd-away', message: { seq: 1 } }]);
    const again = await b.nextCommand((f) => f.id === 'cmd-away');
    expect(again.command).toEqual({ n: 1 });
    b.ackCommands([again.cid]);
    await b.close();
  });
});
