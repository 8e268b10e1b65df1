/** A WebSocket gateway that batches the messages of 1,000 twins over one connection. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeAuthFile } from '../kit/auth-file.js';
import { fixtureEnv, range } from '../kit/fixtures.js';
import { metric } from '../kit/metrics.js';
import { pullCommands, report } from '../kit/rest-client.js';
import { startServer, type ServerHandle } from '../kit/server.js';
import { WsClient } from '../kit/ws-client.js';

const ADMIN = 'gw-admin';
const GATEWAY = 'gw-gateway';
const TWINS = 1_000;
const ROUNDS = 5;
const PER_FRAME = 100;
let server: ServerHandle;

beforeAll(async () => {
  const authFile = writeAuthFile([
    { key: ADMIN, role: 'admin' },
    { key: GATEWAY, role: 'device', twins: ['probe/gw-*'], name: 'site-gateway' },
  ]);
  server = await startServer({ env: { ...fixtureEnv, AUTH_FILE: authFile } });
});
afterAll(async () => {
  await server?.stop();
});

const twin = (i: number) => `gw-${i}`;

describe('WebSocket gateway', () => {
  it('ingests batches for 1,000 twins, each twin getting its messages in order, and gets their commands on its connection', async () => {
    const gw = await WsClient.connect(server.url, { key: GATEWAY });
    const before = await metric(server.url, 'hextwin_connector_messages_in_total', { connector: 'ws' }, ADMIN);

    // ROUNDS messages per twin, PER_FRAME envelopes per frame, all frames pipelined
    const acks: Promise<number>[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (let start = 0; start < TWINS; start += PER_FRAME) {
        acks.push(gw.send(range(PER_FRAME, start).map((i) => ({ model: 'probe', id: twin(i), message: { seq: round } }))));
      }
    }
    expect((await Promise.all(acks)).reduce((a, b) => a + b, 0)).toBe(TWINS * ROUNDS);
    expect(await metric(server.url, 'hextwin_connector_messages_in_total', { connector: 'ws' }, ADMIN)).toBe(before + TWINS * ROUNDS);

    // ten twins answer with a command each: all ten arrive down the gateway's connection
    const asked = range(10).map((k) => twin(k * 100 + 7));
    await gw.send(asked.map((id) => ({ model: 'probe', id, message: { op: 'echo', command: { reboot: id } } })));
    const commands = await Promise.all(asked.map((id) => gw.nextCommand((c) => c.id === id)));
    expect(commands.map((c) => c.command)).toEqual(asked.map((id) => ({ reboot: id })));
    gw.ackCommands(commands.map((c) => c.cid));
    for (const id of asked) {
      for (let tries = 0; (await pullCommands(server.url, 'probe', id, ADMIN)).length > 0; tries++) {
        expect(tries).toBeLessThan(100);
        await new Promise((r) => setTimeout(r, 20));
      }
    }

    for (const i of [0, 1, 499, 500, 999]) {
      const s = await report(server.url, 'probe', twin(i), ADMIN);
      expect(s.seqs).toEqual(range(ROUNDS));
    }
    await gw.close();
  });
});
