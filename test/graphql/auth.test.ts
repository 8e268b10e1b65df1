import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { codeOf, data, gql, KEYS, subscribe, useGraphqlServer, wsClient } from './helpers.js';

const server = useGraphqlServer({ auth: true });

const QUERY = '{ twins(model: "sensor") { totalCount } }';
const MUTATION = 'mutation { sendToTwin(model: "sensor", id: "a1", message: {set: {level: 1}}) }';

describe('HTTP', () => {
  it('refuses requests without a key, or with an unknown key, with 401 UNAUTHENTICATED', async () => {
    for (const key of [undefined, 'not-a-key']) {
      const r = await gql(server.url, QUERY, undefined, { key });
      expect(r.status).toBe(401);
      expect(codeOf(r)).toBe('UNAUTHENTICATED');
      expect(r.headers.get('www-authenticate')).toMatch(/^Bearer/);
    }
  });
  it('refuses device keys with 403 FORBIDDEN', async () => {
    const r = await gql(server.url, QUERY, undefined, { key: KEYS.device[0] });
    expect(r.status).toBe(403);
    expect(codeOf(r)).toBe('FORBIDDEN');
  });
  it('lets viewers read but not run mutations', async () => {
    expect((await data(server.url, QUERY, undefined, KEYS.viewer[0])).twins.totalCount).toBe(0);
    const r = await gql(server.url, MUTATION, undefined, { key: KEYS.viewer[0] });
    expect(codeOf(r)).toBe('FORBIDDEN');
    expect(r.body.data).toBeNull();
  });
  it('lets operators run mutations', async () => {
    expect((await data(server.url, MUTATION, undefined, KEYS.operator[0])).sendToTwin).toBe(true);
  });
});

describe('WebSocket', () => {
  function closeOf(key: string | undefined): Promise<{ code: number; reason: string }> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(server.url.replace('http', 'ws') + '/graphql', 'graphql-transport-ws');
      ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: key ? { authorization: `Bearer ${key}` } : {} })));
      ws.on('message', (m) => {
        const msg = JSON.parse(String(m));
        if (msg.type === 'connection_ack') {
          ws.close(1000);
          resolve({ code: 0, reason: 'acknowledged' });
        }
      });
      ws.on('close', (code, reason) => resolve({ code, reason: String(reason) }));
      ws.on('error', reject);
    });
  }

  it('closes connections without a valid key with 4401', async () => {
    expect((await closeOf(undefined)).code).toBe(4401);
    expect((await closeOf('not-a-key')).code).toBe(4401);
  });
  it('closes connections with a device key with 4403', async () => {
    expect((await closeOf(KEYS.device[0])).code).toBe(4403);
  });
  it('acknowledges viewers, who may subscribe but not run mutations', async () => {
    expect((await closeOf(KEYS.viewer[0])).reason).toBe('acknowledged');
    const client = wsClient(server.url, KEYS.viewer[0]);
    const sub = subscribe(client, 'subscription { aggregate(model: "sensor", everyMs: 100) { count } }');
    expect((await sub.next()).data.aggregate).toEqual([{ count: expect.any(Number) }]);
    await sub.close();
    const m = subscribe(client, MUTATION);
    const r = await m.next();
    expect(r.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    await client.dispose();
  });
});
