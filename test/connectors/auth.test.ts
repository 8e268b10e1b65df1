/** API keys and roles (AUTH_FILE, SHA-256 hashes) on REST and WebSocket ingest, and the device scope. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeAuthFile } from '../kit/auth-file.js';
import { fixtureEnv } from '../kit/fixtures.js';
import { request } from '../kit/rest-client.js';
import { startServer, type ServerHandle } from '../kit/server.js';
import { WsClient } from '../kit/ws-client.js';

const KEYS = { admin: 'k-admin', operator: 'k-operator', viewer: 'k-viewer', device: 'k-device' } as const;
type Role = keyof typeof KEYS;
let server: ServerHandle;

beforeAll(async () => {
  const authFile = writeAuthFile([
    { key: KEYS.admin, role: 'admin' },
    { key: KEYS.operator, role: 'operator' },
    { key: KEYS.viewer, role: 'viewer' },
    { key: KEYS.device, role: 'device', twins: ['probe/pump-*', 'slow/pump-7'] },
  ]);
  server = await startServer({ env: { ...fixtureEnv, AUTH_FILE: authFile } });
});
afterAll(async () => {
  await server?.stop();
});

const post = (role: Role | null, path: string, body: unknown = { seq: 1 }) =>
  request(server.url, 'POST', path, { key: role ? KEYS[role] : undefined, body: body as never });
const get = (role: Role | null, path: string) => request(server.url, 'GET', path, { key: role ? KEYS[role] : undefined });

describe('REST', () => {
  it('answers 401 with WWW-Authenticate without a key or with an unknown key', async () => {
    const none = await post(null, '/api/v1/messages/probe/pump-1');
    expect(none).toMatchObject({ status: 401, body: { error: { code: 'UNAUTHENTICATED' } } });
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    const wrong = await request(server.url, 'POST', '/api/v1/messages/probe/pump-1', { key: 'k-nobody', body: {} });
    expect(wrong.status).toBe(401);
  });

  it.each([
    ['admin', 202],
    ['operator', 202],
    ['viewer', 403],
    ['device', 202],
  ] as const)('lets %s send messages to a twin in the device scope: %i', async (role, status) => {
    expect((await post(role, '/api/v1/messages/probe/pump-1')).status).toBe(status);
  });

  it.each([
    ['admin', 202],
    ['operator', 202],
    ['viewer', 403],
    ['device', 403],
  ] as const)('lets %s send messages to a twin outside the device scope: %i', async (role, status) => {
    const r = await post(role, '/api/v1/messages/probe/valve-1');
    expect(r.status).toBe(status);
    if (status === 403) expect(r.body.error.code).toBe('FORBIDDEN');
  });

  it('matches a device scope on model and id: slow/pump-7 yes, slow/pump-8 no', async () => {
    expect((await post('device', '/api/v1/messages/slow/pump-7')).status).toBe(202);
    expect((await post('device', '/api/v1/messages/slow/pump-8')).status).toBe(403);
  });

  it.each([
    ['admin', 200, 200],
    ['operator', 200, 200],
    ['viewer', 200, 403],
    ['device', 200, 200],
  ] as const)('lets %s read (%i) and acknowledge (%i) the commands of a twin in the device scope', async (role, read, ack) => {
    expect((await get(role, '/api/v1/messages/probe/pump-2')).status).toBe(read);
    expect((await post(role, '/api/v1/messages/probe/pump-2/ack', {})).status).toBe(ack);
  });

  it('keeps a device out of the commands of twins outside its scope', async () => {
    expect((await get('device', '/api/v1/messages/probe/valve-2')).status).toBe(403);
    expect((await post('device', '/api/v1/messages/probe/valve-2/ack', {})).status).toBe(403);
  });

  it('refuses a bulk request whole when one envelope is outside the device scope', async () => {
    const items = [
      { model: 'probe', id: 'pump-3', message: { seq: 1 } },
      { model: 'probe', id: 'valve-3', message: { seq: 1 } },
    ];
    expect(await post('device', '/api/v1/messages', items)).toMatchObject({ status: 403, body: { error: { code: 'FORBIDDEN' } } });
    expect((await post('device', '/api/v1/messages', items.slice(0, 1))).status).toBe(202);
    expect((await post('viewer', '/api/v1/messages', items.slice(0, 1))).status).toBe(403);
  });
});

describe('WebSocket', () => {
  it.each([
    ['admin', 'ack'],
    ['operator', 'ack'],
    ['viewer', 'FORBIDDEN'],
    ['device', 'ack'],
  ] as const)('lets %s send a frame for a twin in the device scope: %s', async (role, outcome) => {
    const c = await WsClient.connect(server.url, { key: KEYS[role] });
    const r = await c.send([{ model: 'probe', id: 'pump-4', message: { seq: 1 } }]).then(
      () => 'ack',
      (e) => e.code,
    );
    expect(r).toBe(outcome);
    await c.close();
  });

  it('refuses a device frame for a twin outside its scope with FORBIDDEN', async () => {
    const c = await WsClient.connect(server.url, { key: KEYS.device, keyInHeader: true });
    await expect(c.send([{ model: 'probe', id: 'valve-4', message: {} }])).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await c.close();
  });
});

describe('Without an AUTH_FILE', () => {
  it('refuses to listen beyond loopback, and says authentication is off on loopback', async () => {
    await expect(startServer({ env: { ...fixtureEnv, HOST: '0.0.0.0' }, readyTimeoutMs: 15_000 })).rejects.toThrow(/CONFIG_INVALID/);
    const open = await startServer({ env: { ...fixtureEnv } });
    try {
      expect(open.output()).toContain('authentication is off');
      expect((await request(open.url, 'POST', '/api/v1/messages/probe/anyone', { body: {} })).status).toBe(202);
    } finally {
      await open.stop();
    }
  });
});
