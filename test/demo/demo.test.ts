import { copyFileSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, startServer, type ServerHandle } from '../kit/server.js';
import { data } from '../graphql/helpers.js';

async function until<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** What a newcomer sees after `pnpm demo`: the simulator makes the sample models come alive. */
describe('pnpm demo', () => {
  let server: ServerHandle;
  // a user's MODELS_DIR holding a copy of one sample, as it is: the demo simulates it too
  const modelsDir = mkdtempSync(path.join(os.tmpdir(), 'hextwin-demo-models-'));
  beforeAll(async () => {
    copyFileSync(path.join(repoRoot, 'server/src/simulator/samples/status-tracker.ts'), path.join(modelsDir, 'status-tracker.ts'));
    // where a user's models find @hextwin/shared and @hextwin/server: here, the test package's dependencies
    symlinkSync(path.join(repoRoot, 'test/node_modules'), path.join(modelsDir, 'node_modules'));
    server = await startServer({ env: { HEXTWIN_DEMO: '1', MODELS_DIR: modelsDir } });
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(modelsDir, { recursive: true, force: true });
  });

  it('has thousands of live twins and alerts queryable through GraphQL within 30 s', async () => {
    const started = Date.now();
    let twins = 0;
    let alerts = 0;
    let models: { name: string; twinCount: number }[] = [];
    while (Date.now() - started < 30_000) {
      const d = await data<{ models: { name: string; twinCount: number }[]; alerts: { id: string }[] }>(
        server.url,
        '{ models { name twinCount } alerts(first: 10) { id } }',
      );
      models = d.models;
      twins = models.reduce((n, m) => n + m.twinCount, 0);
      alerts = d.alerts.length;
      if (twins >= 2_000 && alerts > 0) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(twins, `twins after ${Date.now() - started} ms: ${JSON.stringify(models)}`).toBeGreaterThanOrEqual(2_000);
    expect(alerts, 'alerts raised by the simulated fleets').toBeGreaterThan(0);
    // every sample model is fed
    for (const name of ['gas-sensor', 'grid-node', 'wind-turbine', 'truck', 'employee']) {
      expect(models.find((m) => m.name === name)?.twinCount ?? 0, name).toBeGreaterThan(0);
    }
    const hex = await data<{ hexAggregate: { cell: string; count: number }[] }>(
      server.url,
      '{ hexAggregate(model: "grid-node", resolution: 3) { cell count } }',
    );
    expect(hex.hexAggregate.length).toBeGreaterThan(10);
  });

  it('lists the demo scenarios and runs one on request', async () => {
    const d = await data<{ scenarios: { name: string }[] }>(server.url, '{ scenarios { name } }');
    expect(d.scenarios.map((s) => s.name)).toEqual(expect.arrayContaining(['grid-attack', 'regional-outage', 'gas-leak', 'positive-test']));
    const before = Date.now();
    await data(server.url, 'mutation { triggerScenario(name: "grid-attack") }');
    const deadline = Date.now() + 20_000;
    let critical = 0;
    while (Date.now() < deadline) {
      const a = await data<{ alerts: { at: string }[] }>(server.url, '{ alerts(model: "grid-node", minSeverity: CRITICAL, first: 200) { at } }');
      critical = a.alerts.filter((x) => Date.parse(x.at) >= before - 60_000).length;
      if (critical >= 10) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(critical, 'CRITICAL grid alerts after the attack').toBeGreaterThanOrEqual(10);
  });

  it('reports the demo devices as a simulation running in real time', async () => {
    const d = await data<{ simulation: { running: boolean; speed: number; unbounded: boolean; instances: number; emitted: number } }>(
      server.url,
      '{ simulation { running speed unbounded instances emitted } }',
    );
    // 20,000 grid nodes, 2,000 trucks, 50 gas sensors, 200 turbines, 200 phones, and the copied sample's 100 devices and attacker
    expect(d.simulation).toMatchObject({ running: true, speed: 1, unbounded: false, instances: 22_551 });
    expect(d.simulation.emitted).toBeGreaterThan(22_000);
  });

  it("simulates a sample copied into MODELS_DIR: the StatusTracker's devices feed their tracker twins", async () => {
    const d = await until(
      'status-tracker twins',
      () => data<{ models: { name: string; twinCount: number }[] }>(server.url, '{ models { name twinCount } }'),
      (v) => (v.models.find((m) => m.name === 'status-tracker')?.twinCount ?? 0) >= 100,
    );
    expect(d.models.find((m) => m.name === 'status-tracker')!.twinCount).toBe(100);
  });

  it('runs regional-outage: a whole state goes offline and its simulated nodes stay silent', async () => {
    const before = Date.now();
    await data(server.url, 'mutation { triggerScenario(name: "regional-outage") }');
    type Groups = { aggregate: { key: string; count: number }[] };
    const offline = await until(
      'the offline region',
      () =>
        data<Groups>(server.url, '{ aggregate(model: "grid-node", groupBy: "region", where: { field: "condition", op: EQ, value: "offline" }) { key count } }'),
      (v) => (v.aggregate[0]?.count ?? 0) >= 100,
    );
    const region = offline.aggregate[0]!.key;
    type Region = { all: { totalCount: number }; speaking: { totalCount: number; edges: { node: { state: { condition: string; lastSeen: number } } }[] } };
    const inRegion = { field: 'region', op: 'EQ', value: region };
    const q = `query ($r: TwinFilter!, $s: TwinFilter!) { all: twins(model: "grid-node", where: $r) { totalCount } speaking: twins(model: "grid-node", where: $s) { totalCount edges { node { state } } } }`;
    const vars = {
      r: inRegion,
      s: {
        and: [
          inRegion,
          {
            or: [
              { field: 'condition', op: 'NE', value: 'offline' },
              { field: 'lastSeen', op: 'GT', value: before + 2_000 },
            ],
          },
        ],
      },
    };
    const read = () => data<Region>(server.url, q, vars);
    const outage = await until('every node of the region offline', read, (v) => v.speaking.totalCount === 0);
    expect(outage.all.totalCount).toBeGreaterThanOrEqual(100);
    // two report periods later (a device of the demo reports every ~5.6 s) not one node of the state has spoken
    await new Promise((r) => setTimeout(r, 12_000));
    const later = await read();
    expect(later.speaking.edges.map((e) => e.node.state)).toEqual([]);
    expect(later.all.totalCount).toBe(outage.all.totalCount);
  });

  it("runs gas-leak: the leaking sensor's twin sounds the alarm, and the simulated device obeys its shutdown", async () => {
    const before = Date.now();
    await data(server.url, 'mutation { triggerScenario(name: "gas-leak") }');
    type Alerts = { alerts: { twinId: string; at: string }[] };
    const a = await until(
      'the gas alarm',
      () => data<Alerts>(server.url, '{ alerts(model: "gas-sensor", minSeverity: CRITICAL, first: 10) { twinId at } }'),
      (v) => v.alerts.some((x) => Date.parse(x.at) >= before - 1_000),
    );
    const id = a.alerts.find((x) => Date.parse(x.at) >= before - 1_000)!.twinId;
    // the leak lasts 30 minutes, except where the pipe is shut: that sensor reads normal at its next report
    await until(
      'the shut sensor reading normal',
      () => data<{ twin: { state: { ppm: number } } }>(server.url, `{ twin(model: "gas-sensor", id: ${JSON.stringify(id)}) { state } }`),
      (v) => v.twin.state.ppm < 20,
    );
  });
});
