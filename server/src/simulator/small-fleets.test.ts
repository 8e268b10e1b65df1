import { describe, expect, it } from 'vitest';
import { GasFleet } from './gas-fleet.js';
import { insideContinentalUs } from './geo.js';
import { OfficeFleet } from './office-fleet.js';
import { WindFleet } from './wind-fleet.js';

const T0 = Date.parse('2025-06-01T00:00:00Z');
const DAY = 86_400_000;

describe('GasFleet', () => {
  it('places the sensors asked for in a few large cities, reading a few ppm', () => {
    const gas = new GasFleet({ count: 50, cities: 5, seed: 1 });
    expect(gas.size).toBe(50);
    expect(new Set(gas.sensors.map((s) => s.id)).size).toBe(50);
    expect(new Set(gas.sensors.map((s) => s.city.name))).toEqual(new Set(['New York City', 'Los Angeles', 'Chicago', 'Houston', 'Philadelphia']));
    for (let k = 0; k < 200; k++) {
      const m = gas.next(T0)!.message as { ppm: number; lat: number; lng: number; site: string };
      expect(m.ppm).toBeLessThan(50);
      expect(insideContinentalUs(m)).toBe(true);
      expect(m.site).toMatch(/ site \d+$/);
    }
  });

  it('stops a leak when the device obeys a shutdown command', () => {
    const gas = new GasFleet({ count: 5, cities: 1, seed: 1 });
    gas.leak(2, 250, T0 + DAY);
    expect((gas.reading(2, T0).message as { ppm: number }).ppm).toBeGreaterThan(200);
    gas.onCommand(gas.id(2), { command: 'shutdown', description: 'Shutdown the incoming gas pipe', code: 100 });
    expect(gas.leaking(2, T0)).toBe(false);
    expect((gas.reading(2, T0).message as { ppm: number }).ppm).toBeLessThan(50);
  });
});

describe('WindFleet', () => {
  it('builds farms of turbines in the windy states with an init message each', () => {
    const wind = new WindFleet({ count: 200, farms: 8, seed: 1 });
    expect(wind.size).toBe(200);
    expect(wind.farms).toHaveLength(8);
    expect(new Set(wind.turbines.map((t) => t.id)).size).toBe(200);
    const setup = wind.setup(T0);
    expect(setup).toHaveLength(200);
    for (const m of setup) {
      const init = m.message as { type: string; turbineModel: string; nextMaintenance: string };
      expect(init.type).toBe('init');
      expect(['A', 'B', 'C']).toContain(init.turbineModel);
      expect(init.nextMaintenance).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    }
  });

  it('reports healthy readings, and a faulty turbine overheats or slows down until its fault ends', () => {
    const wind = new WindFleet({ count: 10, farms: 1, seed: 2 });
    const r = (i: number, t: number) => wind.reading(i, t).message as { temp: number; rpm: number };
    wind.fault(3, 'overheat', T0 + 60_000);
    wind.fault(4, 'slow', T0 + 60_000);
    expect(r(3, T0).temp).toBeGreaterThan(100);
    expect(r(4, T0).rpm).toBeLessThan(60);
    expect(r(3, T0 + 60_000).temp).toBeLessThan(100);
    expect(r(4, T0 + 60_000).rpm).toBeGreaterThanOrEqual(60);
  });
});

describe('OfficeFleet', () => {
  it('reports contacts between distinct employees, mostly within a department', () => {
    const office = new OfficeFleet({ count: 200, seed: 1 });
    let same = 0;
    for (let k = 0; k < 2_000; k++) {
      const m = office.next(T0 + k)!;
      const msg = m.message as { type: string; otherId: string; at: number };
      expect(msg.type).toBe('contact');
      expect(msg.otherId).not.toBe(m.id);
      expect(msg.at).toBe(T0 + k);
      const dept = (id: string) => office.employees.find((e) => e.id === id)!.department;
      if (dept(m.id) === dept(msg.otherId)) same++;
    }
    expect(same / 2_000).toBeGreaterThan(0.6);
  });

  it('keeps a quarantined employee at home for 14 days', () => {
    const office = new OfficeFleet({ count: 3, seed: 1 });
    office.onCommand(office.id(1), { type: 'quarantine', from: 'emp-0002', at: T0 }, T0);
    for (let k = 0; k < 30; k++) {
      const m = office.next(T0 + k)!;
      expect(m.id).not.toBe(office.id(1));
      expect((m.message as { otherId: string }).otherId).not.toBe(office.id(1));
    }
    expect(office.atHome(1, T0 + 14 * DAY)).toBe(false);
  });
});
