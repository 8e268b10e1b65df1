import { describe, expect, it } from 'vitest';
import { haversineKm } from '@hextwin/shared';
import { insideContinentalUs } from './geo.js';
import { TruckFleet } from './truck-fleet.js';

const T0 = Date.parse('2025-06-01T00:00:00Z');
const HOUR = 3_600_000;

interface Reading {
  lat: number;
  lng: number;
  speedKph: number;
  fuelPct: number;
  timestamp: number;
}

describe('TruckFleet', () => {
  it('introduces each truck with its driver, cargo, route and planned stops', () => {
    const fleet = new TruckFleet({ count: 20, seed: 1 });
    const setup = fleet.setup(T0);
    expect(setup).toHaveLength(20);
    setup.forEach((m, i) => {
      const init = m.message as {
        type: string;
        driver: { speedAllowanceKph: number };
        cargo: { maxTempC: number };
        route: { destination: { name: string; lat: number }; corridor: unknown[] };
        plannedStops: unknown[];
      };
      const leg = fleet.leg(i, T0);
      expect(init.type).toBe('init');
      expect(init.driver.speedAllowanceKph).toBeGreaterThanOrEqual(100);
      expect(init.route.destination).toEqual({ name: `${leg.to.name}, ${leg.to.state}`, lat: leg.to.lat, lng: leg.to.lng });
      expect(init.route.corridor).toHaveLength(2);
      expect(init.plannedStops).toHaveLength(2);
    });
  });

  it('tells its twin where it is heading each time it turns round', () => {
    const fleet = new TruckFleet({ count: 1, seed: 4 });
    fleet.setup(T0);
    const leg = fleet.leg(0, T0);
    expect((fleet.next(T0)!.message as { type?: string }).type).toBeUndefined();
    const turned = fleet.next(leg.leaveAt)!.message as { type: string; route: { destination: { name: string } } };
    expect(turned.type).toBe('init');
    expect(turned.route.destination.name).toBe(`${leg.from.name}, ${leg.from.state}`);
    expect((fleet.next(leg.leaveAt + 1)!.message as { type?: string }).type).toBeUndefined();
  });

  it('has 2,000 trucks with distinct ids reporting the fields of the truck model', () => {
    const fleet = new TruckFleet({ count: 2_000, seed: 1 });
    fleet.setup(T0);
    const ids = new Set<string>();
    for (let k = 0; k < 2_000; k++) {
      const m = fleet.next(T0)!;
      ids.add(m.id);
      expect(Object.keys(m.message as object).sort()).toEqual(['cargoTempC', 'engineTempC', 'fuelPct', 'lat', 'lng', 'speedKph', 'timestamp']);
    }
    expect(ids.size).toBe(2_000);
  });

  it('works a lane between two real cities a few hundred km apart, staying in the continental US', () => {
    const fleet = new TruckFleet({ count: 50, seed: 2 });
    for (let i = 0; i < 50; i++) {
      const lane = fleet.lane(i);
      const ends = new Set([lane.origin, lane.destination]);
      for (let h = 0; h < 48; h += 3) {
        const leg = fleet.leg(i, T0 + h * HOUR);
        expect(ends.has(leg.from) && ends.has(leg.to) && leg.from !== leg.to).toBe(true);
        expect(leg.from.population).toBeGreaterThanOrEqual(50_000);
        expect(leg.to.population).toBeGreaterThanOrEqual(50_000);
        expect(haversineKm(leg.from, leg.to)).toBeGreaterThan(100);
        expect(insideContinentalUs(fleet.position(i, T0 + h * HOUR))).toBe(true);
      }
    }
  });

  it('moves along its leg and stands still once it has arrived', () => {
    const fleet = new TruckFleet({ count: 1, seed: 4 });
    const leg = fleet.leg(0, T0);
    const during = leg.departAt + (leg.arriveAt - leg.departAt) / 2;
    const stalled = (t: number) => leg.stallAt > 0 && t >= leg.stallAt && t < leg.stallAt + leg.stallMs;
    const t1 = stalled(during) ? leg.stallAt + leg.stallMs + 60_000 : during;
    const a = fleet.position(0, t1);
    const b = fleet.position(0, t1 + 600_000);
    expect(haversineKm(a, b)).toBeGreaterThan(5);
    expect(haversineKm(b, leg.to)).toBeLessThan(haversineKm(a, leg.to));
    const parked = leg.arriveAt + 60_000;
    expect(haversineKm(fleet.position(0, parked), leg.to)).toBeLessThan(0.01);
  });

  it('reports speed 0 while parked at its destination and a cruising speed on the road', () => {
    const fleet = new TruckFleet({ count: 1, seed: 4 });
    const leg = fleet.leg(0, T0);
    // skip the init messages: this test is about readings
    const read = (t: number): Reading => {
      const m = fleet.next(t)!.message as unknown as Reading & { type?: string };
      return m.type === 'init' ? read(t) : m;
    };
    expect(read(leg.arriveAt + 1_000).speedKph).toBe(0);
    const next = fleet.leg(0, leg.leaveAt + 1);
    const onRoad = next.stallAt > 0 ? next.departAt + 1_000 : next.departAt + (next.arriveAt - next.departAt) / 2;
    expect(read(onRoad).speedKph).toBeGreaterThan(60);
  });

  it('is the same run for the same seed', () => {
    const run = (seed: number) => {
      const f = new TruckFleet({ count: 100, seed });
      f.setup(T0);
      return Array.from({ length: 1_000 }, (_, k) => f.next(T0 + k * 60_000));
    };
    expect(run(9)).toEqual(run(9));
    expect(run(9)).not.toEqual(run(10));
  });
});
