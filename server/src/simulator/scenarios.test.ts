import { describe, expect, it } from 'vitest';
import { haversineKm, HextwinError } from '@hextwin/shared';
import { metroCentres } from './cities.js';
import { Random } from './random.js';
import { SCENARIOS, findScenario } from './scenarios/index.js';
import { World } from './world.js';

const T0 = Date.parse('2025-06-01T12:00:00Z');
const MINUTE = 60_000;

type Status = { type: string; condition: string; timestamp: number };

/** Every message the grid fleet sends in one full turn over its nodes at t, by id. */
function gridTurn(world: World, t: number): Map<string, Status> {
  const out = new Map<string, Status>();
  for (let k = 0; k < world.grid!.size; k++) {
    const m = world.grid!.next(t);
    if (m) out.set(m.id, m.message as Status);
  }
  return out;
}

describe('grid-attack', () => {
  it('makes clusters of severe nodes around three large cities, for 20 minutes', () => {
    const world = new World(1, { 'grid-node': 20_000 });
    const effect = findScenario('grid-attack').apply(world, T0, new Random(1));
    const severe = effect.messages.filter((m) => (m.message as Status).condition === 'severe');
    expect(severe.length).toBeGreaterThan(100);
    expect(effect.messages.every((m) => m.model === 'grid-node' && (m.message as Status).timestamp === T0)).toBe(true);

    // every severe node lies within 20 km of one of three big-city centres
    const centres = metroCentres(25);
    const index = (id: string) => Number(id.slice('node-'.length)) - 1;
    const hit = new Set<string>();
    for (const m of severe) {
      const p = world.grid!.position(index(m.id));
      const c = centres.find((city) => haversineKm(city, p) <= 20);
      expect(c).toBeDefined();
      hit.add(c!.name);
    }
    expect(hit.size).toBe(3);
    expect(effect.summary).toContain('attack on the grid around');

    // the attacked nodes go on reporting severe until the attack ends, then normal
    const during = gridTurn(world, T0 + 10 * MINUTE);
    for (const m of severe) expect(during.get(m.id)!.condition).toBe('severe');
    const after = gridTurn(world, T0 + 20 * MINUTE);
    for (const m of severe) expect(after.get(m.id)!.condition).toBe('normal');
  });

  it('picks the same cities for the same seed', () => {
    const a = findScenario('grid-attack').apply(new World(1, { 'grid-node': 5_000 }), T0, Random.derive(1, 'x'));
    const b = findScenario('grid-attack').apply(new World(1, { 'grid-node': 5_000 }), T0, Random.derive(1, 'x'));
    expect(a).toEqual(b);
  });
});

describe('regional-outage', () => {
  it('takes every node of one state offline, keeps them silent for 15 minutes, then back to normal', () => {
    const world = new World(1, { 'grid-node': 20_000 });
    const effect = findScenario('regional-outage').apply(world, T0, new Random(2));
    expect(effect.messages.length).toBeGreaterThan(100);
    const region = world.grid!.region[Number(effect.messages[0]!.id.slice(5)) - 1]!;
    expect(effect.messages).toHaveLength(world.grid!.nodesInRegion(region).length);
    expect(effect.messages.every((m) => (m.message as Status).condition === 'offline')).toBe(true);

    const during = gridTurn(world, T0 + 5 * MINUTE);
    for (const m of effect.messages) expect(during.has(m.id)).toBe(false);
    const after = gridTurn(world, T0 + 15 * MINUTE);
    for (const m of effect.messages) expect(after.get(m.id)!.condition).toBe('normal');
  });
});

describe('gas-leak', () => {
  it('raises one sensor over 200 ppm and its neighbours over 50 ppm until the leak ends', () => {
    const world = new World(1, { 'gas-sensor': 50 });
    const effect = findScenario('gas-leak').apply(world, T0, new Random(3));
    const ppm = effect.messages.map((m) => (m.message as { ppm: number }).ppm);
    expect(ppm.filter((p) => p >= 200)).toHaveLength(1);
    expect(ppm.every((p) => p > 50)).toBe(true);
    const gas = world.gas!;
    const leaking = gas.sensors.map((_, i) => i).filter((i) => gas.leaking(i, T0));
    expect(leaking.length).toBe(effect.messages.length);
    expect(leaking.every((i) => !gas.leaking(i, T0 + 30 * MINUTE))).toBe(true);
  });
});

describe('positive-test', () => {
  it('sends recent contacts and then the positive test of one employee', () => {
    const world = new World(1, { employee: 200 });
    const effect = findScenario('positive-test').apply(world, T0, new Random(4));
    const last = effect.messages.at(-1)!;
    expect(last.message).toEqual({ type: 'positiveTest', at: T0 });
    const contacts = effect.messages.slice(0, -1);
    expect(contacts.length).toBeGreaterThan(0);
    for (const c of contacts) {
      const msg = c.message as { type: string; otherId: string; at: number };
      expect(c.id).toBe(last.id);
      expect(msg.type).toBe('contact');
      expect(msg.otherId).not.toBe(last.id);
      expect(msg.at).toBeLessThan(T0);
      expect(msg.at).toBeGreaterThan(T0 - 14 * 24 * 60 * MINUTE);
    }
  });
});

describe('scenario lookup', () => {
  it('lists four scenarios with descriptions', () => {
    expect(SCENARIOS.map((s) => s.name)).toEqual(['grid-attack', 'regional-outage', 'gas-leak', 'positive-test']);
    for (const s of SCENARIOS) expect(s.description.length).toBeGreaterThan(20);
  });

  it('refuses an unknown scenario with NOT_FOUND naming the ones there are', () => {
    expect(() => findScenario('alien-invasion')).toThrow(HextwinError);
    expect(() => findScenario('alien-invasion')).toThrow(/grid-attack/);
  });

  it('refuses a scenario whose fleet the simulation does not run', () => {
    const world = new World(1, { truck: 10 });
    try {
      findScenario('gas-leak').apply(world, T0, new Random(1));
      expect.unreachable();
    } catch (e) {
      expect((e as HextwinError).code).toBe('BAD_REQUEST');
      expect((e as Error).message).toContain('gas-sensor');
    }
  });
});
