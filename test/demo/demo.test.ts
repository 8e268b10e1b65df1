import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type ServerHandle } from '../kit/server.js';
import { data } from '../graphql/helpers.js';

/** What a newcomer sees after `pnpm demo`: the simulator makes the sample models come alive. */
describe('pnpm demo', () => {
  let server: ServerHandle;
  beforeAll(async () => {
    server = await startServer({ env: { HEXTWIN_DEMO: '1' } });
  });
  afterAll(async () => {
    await server?.stop();
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
});
