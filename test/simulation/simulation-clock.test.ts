/**
 * A real server running a simulation at speed 60 (SIMULATION_SPEED): the engine's timers follow
 * the simulation clock, so grid-node's 5-minute silence timer fires after 5 simulated minutes
 * (about 5 s of wall time), and GraphQL reports the run's status.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { data } from '../graphql/helpers.js';
import { repoRoot, startServer, type ServerHandle } from '../kit/server.js';

const START = Date.parse('2030-06-01T00:00:00Z');
let server: ServerHandle;
beforeAll(async () => {
  server = await startServer({
    env: {
      MODELS_DIR: path.join(repoRoot, 'test/fixtures/simulation-models'),
      SIMULATION_SPEED: '60',
      SIMULATION_START: new Date(START).toISOString(),
    },
  });
});
afterAll(() => server?.stop());

type Sim = { running: boolean; speed: number; unbounded: boolean; simTime: string; instances: number; startTime: string; steps: number; emitted: number };
const SIM = '{ simulation { running speed unbounded simTime instances startTime steps emitted } }';

async function until<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, ms = 40_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('Simulation at speed 60 in the server', () => {
  it('should report the simulation on GraphQL: running, speed, simulation time and instances', async () => {
    const { simulation } = await data<{ simulation: Sim }>(server.url, SIM);
    expect(simulation).toMatchObject({ running: true, speed: 60, unbounded: false, instances: 2, startTime: new Date(START).toISOString() });
    expect(Date.parse(simulation.simTime)).toBeGreaterThanOrEqual(START);
  });

  it("should fire grid-node's 5-minute silence timer after 5 simulated minutes, in simulated time", async () => {
    type Twin = { state: { condition: string; lastSeen: number } } | null;
    const read = async () => (await data<{ twin: Twin }>(server.url, '{ twin(model: "grid-node", id: "node-0001") { state } }')).twin;
    // the node reports at +0, +1 and +2 simulated minutes, then stays silent
    const seen = await until('the last report', read, (t) => t?.state.lastSeen === START + 2 * 60_000);
    expect(seen!.state.condition).toBe('normal');
    const gone = await until('unreachable', read, (t) => t?.state.condition === 'unreachable');
    expect(gone!.state.lastSeen).toBe(START + 2 * 60_000);
    // it turned unreachable on the simulation clock: at least 5 simulated minutes after the last report
    const { simulation } = await data<{ simulation: Sim }>(server.url, SIM);
    expect(Date.parse(simulation.simTime)).toBeGreaterThan(START + 7 * 60_000);
    expect(simulation).toMatchObject({ running: true, steps: 6, emitted: 6 });
    const { alerts } = await data<{ alerts: { title: string; at: string }[] }>(server.url, '{ alerts(model: "grid-node") { title at } }');
    const unreachable = alerts.find((a) => a.title === 'Node unreachable');
    expect(Date.parse(unreachable!.at)).toBeGreaterThan(START + 7 * 60_000);
  });
});
