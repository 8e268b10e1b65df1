/**
 * An operator sets AUTH_FILE and expects nothing but liveness to answer strangers: /metrics needs
 * a reading key, /readyz keeps its status code open for load balancers but tells details only to
 * a reading key, /healthz stays open. And the status panel names the release, not 0.0.0.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeAuthFile } from '../kit/auth-file.js';
import { metric } from '../kit/metrics.js';
import { repoRoot, startServer, type ServerHandle } from '../kit/server.js';

const VIEWER = 'health-viewer-key';
const DEVICE = 'health-device-key';
let server: ServerHandle;

const get = (path: string, key?: string) => fetch(server.url + path, key ? { headers: { authorization: `Bearer ${key}` } } : {});

beforeAll(async () => {
  const authFile = writeAuthFile([
    { key: VIEWER, role: 'viewer' },
    { key: DEVICE, role: 'device', twins: ['gas-sensor/*'] },
  ]);
  server = await startServer({ env: { AUTH_FILE: authFile } });
});
afterAll(async () => {
  await server?.stop();
});

describe('Health and metrics behind AUTH_FILE', () => {
  it('refuses /metrics without a key, with an unknown key and with a device key', async () => {
    const none = await get('/metrics');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(((await none.json()) as { error: { code: string } }).error.code).toBe('UNAUTHENTICATED');
    expect((await get('/metrics', 'not-a-key')).status).toBe(401);
    const device = await get('/metrics', DEVICE);
    expect(device.status).toBe(403);
    expect(((await device.json()) as { error: { code: string } }).error.code).toBe('FORBIDDEN');
  });

  it('serves /metrics to a viewer key and counts the refused scrapes', async () => {
    const r = await get('/metrics', VIEWER);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await r.text()).toContain('hextwin_messages_in_total');
    expect(await metric(server.url, 'hextwin_errors_total', { code: 'UNAUTHENTICATED' }, VIEWER)).toBeGreaterThanOrEqual(2);
  });

  it('answers /readyz 200 without a key but names no connectors or failing checks', async () => {
    const r = await get('/readyz');
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ status: 'ready' });
  });

  it('gives the readiness details to a viewer key', async () => {
    const r = await get('/readyz', VIEWER);
    expect(r.status).toBe(200);
    const body = (await r.json()) as { status: string; connectors: { name: string }[] };
    expect(body.status).toBe('ready');
    expect(body.connectors.map((c) => c.name)).toContain('rest');
  });

  it('keeps /healthz open', async () => {
    const r = await get('/healthz');
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ status: 'ok' });
  });
});

describe('The version in status', () => {
  it('is the workspace release from the root package.json, not 0.0.0', async () => {
    const { version } = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string };
    expect(version).toMatch(/^\d+\.\d+\.\d+/);
    expect(version).not.toBe('0.0.0');
    const r = await fetch(server.url + '/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${VIEWER}` },
      body: JSON.stringify({ query: '{ status { version } }' }),
    });
    expect(((await r.json()) as { data: { status: { version: string } } }).data.status.version).toBe(version);
  });
});
