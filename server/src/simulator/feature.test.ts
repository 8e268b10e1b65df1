import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { AppContext, FeatureHandle, ScenarioRegistry } from '../app/feature.js';
import { openAuth } from '../auth/auth.js';
import { loadConfig } from '../config.js';
import type { EngineApi } from '../engine/types.js';
import { simulatorFeature } from './feature.js';
import { IngestPeer } from './ingest-peer.test-helper.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A loopback HTTP server with /readyz (503 until `ready`) and an ingest peer at /ingest. */
async function target() {
  const state = { ready: false, readyzCalls: 0 };
  const srv = http.createServer((req, res) => {
    if (req.url === '/readyz') state.readyzCalls++;
    res.writeHead(req.url === '/readyz' && state.ready ? 200 : 503).end();
  });
  const peer = await IngestPeer.start({}, srv);
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  cleanup.push(async () => {
    await peer.close();
    srv.closeAllConnections();
    await new Promise<void>((resolve) => srv.close(() => resolve()));
  });
  return { state, peer, port: (srv.address() as AddressInfo).port };
}

/** The parts of the app context the simulator feature uses, with a plain scenario registry. */
function context(demo: boolean, port: number) {
  const scenarios = new Map<string, { description: string; run: () => Promise<void> }>();
  const registry: ScenarioRegistry = {
    register: (name, description, run) => void scenarios.set(name, { description, run }),
    list: () => [...scenarios].map(([name, s]) => ({ name, description: s.description })),
    trigger: (name) => scenarios.get(name)!.run(),
  };
  const ctx: AppContext = {
    config: loadConfig({ HEXTWIN_DEMO: demo ? '1' : '0', PORT: String(port) }),
    engine: undefined as unknown as EngineApi,
    logger: pino({ level: 'silent' }),
    metrics: new Registry(),
    auth: openAuth(undefined, { anonymous: true }),
    route: () => undefined,
    upgrade: () => undefined,
    readyCheck: () => undefined,
    connectorStatus: () => undefined,
    connectors: () => [],
    scenarios: registry,
    address: () => ({ host: '127.0.0.1', port }),
    countError: () => undefined,
  };
  return { ctx, registry };
}

describe('simulatorFeature', () => {
  it('does nothing outside demo mode', async () => {
    const { ctx, registry } = context(false, 1);
    expect(await simulatorFeature.start(ctx)).toBeUndefined();
    expect(registry.list()).toEqual([]);
  });

  it('feeds the server over /ingest once /readyz says ready, and runs scenarios on request', async () => {
    process.env.HEXTWIN_DEMO_RATE = '50000';
    cleanup.push(async () => void delete process.env.HEXTWIN_DEMO_RATE);
    const t = await target();
    const { ctx, registry } = context(true, t.port);
    const handle = (await simulatorFeature.start(ctx)) as FeatureHandle;
    cleanup.push(() => handle.stop());
    expect(registry.list().map((s) => s.name)).toEqual(['grid-attack', 'regional-outage', 'gas-leak', 'positive-test']);

    // not ready yet: nothing connects, and a scenario cannot run
    await until(() => t.state.readyzCalls >= 2, 'the readiness probe');
    expect(t.peer.sockets.size).toBe(0);
    await expect(registry.trigger('gas-leak')).rejects.toMatchObject({ code: 'NOT_READY' });

    t.state.ready = true;
    await until(() => t.peer.appliedOf('grid-node').length >= 1_000, 'grid nodes');
    expect(t.peer.applied[0]).toMatchObject({ model: 'grid-node', message: { type: 'init' } });

    await registry.trigger('gas-leak');
    await until(() => t.peer.appliedOf('gas-sensor').some((m) => (m.message as { ppm: number }).ppm >= 200), 'the gas leak');

    await handle.stop();
    await until(() => t.peer.sockets.size === 0, 'the connection to close');
  });
});
