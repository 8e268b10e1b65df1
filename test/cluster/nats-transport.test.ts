import { afterAll, beforeAll } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { NatsTransport } from '@hextwin/server/cluster/nats-transport';
import { runTransportContract } from '@hextwin/server/cluster/transport-contract';
import { startNats, type NatsHandle } from '../kit/nats.js';

let nats: NatsHandle;
beforeAll(async () => {
  nats = await startNats();
});
afterAll(async () => {
  await nats?.cleanup();
});

runTransportContract('nats', {
  async create() {
    const conns: NatsConnection[] = [await connect({ servers: nats.url }), await connect({ servers: nats.url })];
    const a = new NatsTransport(conns[0]!);
    const b = new NatsTransport(conns[1]!);
    return {
      a,
      b,
      async cleanup() {
        await a.close();
        await b.close();
        for (const c of conns) await c.close();
      },
    };
  },
});
