import { RealClock } from '../engine/clock.js';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { AppContext, ScenarioRegistry } from '../app/feature.js';
import { openAuth } from '../auth/auth.js';
import { loadConfig } from '../config.js';
import type { EngineApi } from '../engine/types.js';
import { demoStepMs } from './demo.js';
import { simulatorFeature } from './feature.js';
import { World } from './world.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** The parts of the app context the simulator feature uses, with a plain scenario registry. */
function context(demo: boolean, port: number, env: Record<string, string> = {}) {
  const scenarios = new Map<string, { description: string; run: () => Promise<void> }>();
  const registry: ScenarioRegistry = {
    register: (name, description, run) => void scenarios.set(name, { description, run }),
    list: () => [...scenarios].map(([name, s]) => ({ name, description: s.description })),
    trigger: (name) => scenarios.get(name)!.run(),
  };
  const ctx: AppContext = {
    config: loadConfig({ HEXTWIN_DEMO: demo ? '1' : '0', PORT: String(port), ...env }),
    engine: undefined as unknown as EngineApi,
    clock: new RealClock(),
    models: [],
    logger: pino({ level: 'silent' }),
    metrics: new Registry(),
    auth: openAuth(undefined, { anonymous: true }),
    route: () => undefined,
    upgrade: () => undefined,
    readyCheck: () => undefined,
    connectorStatus: () => undefined,
    connectors: () => [],
    scenarios: registry,
    simulation: { current: undefined },
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

  it('refuses to run beside SIMULATION_SPEED, naming the way to run the demo devices on the simulation clock', async () => {
    const { ctx } = context(true, 1, { SIMULATION_SPEED: '60' });
    await expect(simulatorFeature.start(ctx)).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining('simulate --serve') });
  });

  it('refuses a HEXTWIN_DEMO_RATE that is not a number above 0', async () => {
    process.env.HEXTWIN_DEMO_RATE = 'fast';
    cleanup.push(async () => void delete process.env.HEXTWIN_DEMO_RATE);
    const { ctx } = context(true, 1);
    await expect(simulatorFeature.start(ctx)).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });
});

describe('demo pace', () => {
  it("sets each fleet's step so all devices together send HEXTWIN_DEMO_RATE messages a second, in the fleets' proportions", () => {
    const world = new World(1, { 'grid-node': 100, employee: 20 });
    const step = demoStepMs(world, 100);
    const perSecond = world.fleets.reduce((sum, f) => sum + (f.size * 1000) / step.get(f)!, 0);
    expect(perSecond).toBeCloseTo(100, 0);
    // a phone reports 20 times less often than a grid node, as the fleets always did
    expect(step.get(world.office!)! / step.get(world.grid!)!).toBeCloseTo(20, 1);
  });
});
