import { afterEach, describe, expect, it } from 'vitest';
import type { ReferenceRow } from '@hextwin/shared';
import { createWorkbench, type Workbench } from '../src/workbench.js';
import { LATE_VS_REGION_MIN, truck, type TruckState } from './truck.js';

const S = 1000;
const MIN = 60 * S;
const HOUR = 60 * MIN;
const T0 = Date.parse('2026-01-01T00:00:00Z');
/** degrees of latitude per km (mean Earth radius) */
const KM = 1 / 111.195;

let wb: Workbench;
afterEach(() => wb?.close());

/** A route due east along latitude 40 from -90 to -89 (about 85 km), a depot halfway. */
const dana: ReferenceRow = {
  id: 'tr1',
  driver: { name: 'Dana', speedAllowanceKph: 100 },
  cargo: { type: 'frozen food', maxTempC: -18 },
  route: {
    destination: { name: 'East End', lat: 40, lng: -89 },
    corridor: [
      { lat: 40, lng: -90 },
      { lat: 40, lng: -89 },
    ],
  },
  plannedStops: [{ name: 'Depot', lat: 40, lng: -89.5, radiusKm: 1 }],
};
const DEPOT = { lat: 40, lng: -89.5 };
const ON_ROAD = { lat: 40, lng: -89.8 };

async function fleet(rows: ReferenceRow[] = [dana]) {
  wb = await createWorkbench({ models: [truck], start: T0, reference: { truck: rows } });
  const at = (ms: number, over: Partial<{ speedKph: number; lat: number; lng: number; cargoTempC: number }> = {}) => ({
    ...ON_ROAD,
    speedKph: 80,
    engineTempC: 90,
    cargoTempC: -20,
    fuelPct: 60,
    timestamp: T0 + ms,
    ...over,
  });
  /** Readings every `stepMs` from `fromMs` to `toMs` inclusive. */
  const every = (fromMs: number, toMs: number, stepMs: number, over: Parameters<typeof at>[1] = {}) => {
    const out = [];
    for (let t = fromMs; t <= toMs; t += stepMs) out.push(at(t, over));
    return out;
  };
  const state = (id = 'tr1') => wb.state<TruckState>('truck', id)!;
  const kinds = () => wb.alerts.map((a) => (a.data as { kind: string }).kind);
  return { at, every, state, kinds };
}

describe('Speeding', () => {
  it('alerts after over 60 s beyond the allowance, not at exactly 60 s', async () => {
    const { at, every, kinds } = await fleet();
    await wb.send('truck', 'tr1', every(0, 60 * S, 10 * S, { speedKph: 101 }));
    expect(wb.alerts).toHaveLength(0);
    await wb.send('truck', 'tr1', at(60 * S + 1, { speedKph: 101 }));
    expect(kinds()).toEqual(['speeding']);
    expect(wb.alerts[0]).toMatchObject({ severity: 'WARNING', data: { speedKph: 101, allowanceKph: 100, since: T0 } });
  });

  it('does not count driving at exactly the allowance', async () => {
    const { every } = await fleet();
    await wb.send('truck', 'tr1', every(0, 5 * MIN, 10 * S, { speedKph: 100 }));
    expect(wb.alerts).toHaveLength(0);
  });

  it('alerts once per episode and again after slowing down', async () => {
    const { at, every, kinds } = await fleet();
    await wb.send('truck', 'tr1', every(0, 3 * MIN, 10 * S, { speedKph: 120 }));
    expect(kinds()).toEqual(['speeding']);
    await wb.send('truck', 'tr1', at(3 * MIN + 5 * S, { speedKph: 90 }));
    await wb.send('truck', 'tr1', every(4 * MIN, 5 * MIN, 10 * S, { speedKph: 120 }));
    expect(kinds()).toEqual(['speeding']);
    await wb.send('truck', 'tr1', at(5 * MIN + 1, { speedKph: 120 }));
    expect(kinds()).toEqual(['speeding', 'speeding']);
  });

  it("judges by the driver's own allowance", async () => {
    const { every } = await fleet([{ ...dana, driver: { name: 'Eli', speedAllowanceKph: 120 } }]);
    await wb.send('truck', 'tr1', every(0, 2 * MIN, 10 * S, { speedKph: 115 }));
    expect(wb.alerts).toHaveLength(0);
  });

  it('falls back to 100 km/h for a truck without reference data', async () => {
    const { every, kinds, state } = await fleet([]);
    await wb.send('truck', 'other', every(0, 2 * MIN, 10 * S, { speedKph: 101 }));
    expect(kinds()).toEqual(['speeding']);
    expect(state('other').driver).toEqual({ name: null, speedAllowanceKph: 100 });
  });
});

describe('Cargo temperature', () => {
  it('alerts after over 5 minutes above the maximum, not at exactly 5', async () => {
    const { at, every, kinds } = await fleet();
    await wb.send('truck', 'tr1', every(0, 5 * MIN, MIN, { cargoTempC: -17 }));
    expect(wb.alerts).toHaveLength(0);
    await wb.send('truck', 'tr1', at(5 * MIN + 1, { cargoTempC: -17 }));
    expect(kinds()).toEqual(['cargoTemp']);
    expect(wb.alerts[0]).toMatchObject({ severity: 'ERROR', data: { cargoTempC: -17, maxTempC: -18 } });
  });

  it('does not count cargo at exactly its maximum', async () => {
    const { every } = await fleet();
    await wb.send('truck', 'tr1', every(0, 20 * MIN, MIN, { cargoTempC: -18 }));
    expect(wb.alerts).toHaveLength(0);
  });

  it('alerts once per episode and again after the cargo cooled down', async () => {
    const { at, every, kinds } = await fleet();
    await wb.send('truck', 'tr1', every(0, 20 * MIN, MIN, { cargoTempC: -10 }));
    await wb.send('truck', 'tr1', at(21 * MIN, { cargoTempC: -19 }));
    await wb.send('truck', 'tr1', every(22 * MIN, 28 * MIN, MIN, { cargoTempC: -10 }));
    expect(kinds()).toEqual(['cargoTemp', 'cargoTemp']);
  });

  it('does not watch cargo without a maximum temperature', async () => {
    const { every } = await fleet([{ ...dana, cargo: { type: 'dry goods' } }]);
    await wb.send('truck', 'tr1', every(0, 20 * MIN, MIN, { cargoTempC: 30 }));
    expect(wb.alerts).toHaveLength(0);
  });
});

describe('Stalled', () => {
  it('alerts after over 10 minutes at speed 0 away from a planned stop, not at exactly 10', async () => {
    const { at, every, kinds, state } = await fleet();
    await wb.send('truck', 'tr1', every(0, 10 * MIN, MIN, { speedKph: 0 }));
    expect(wb.alerts).toHaveLength(0);
    expect(state().status).toBe('stopped');
    await wb.send('truck', 'tr1', at(10 * MIN + 1, { speedKph: 0 }));
    expect(kinds()).toEqual(['stalled']);
    expect(wb.alerts[0]!.severity).toBe('WARNING');
    expect(state().status).toBe('stalled');
  });

  it('never stalls at a planned stop, and shows it as stopped', async () => {
    const { every, state } = await fleet();
    await wb.send('truck', 'tr1', every(0, 2 * HOUR, 10 * MIN, { speedKph: 0, lat: DEPOT.lat + 0.9 * KM, lng: DEPOT.lng }));
    expect(wb.alerts).toHaveLength(0);
    expect(state().status).toBe('stopped');
  });

  it('counts just outside the stop radius as away', async () => {
    const { every, kinds } = await fleet();
    await wb.send('truck', 'tr1', every(0, 11 * MIN, MIN, { speedKph: 0, lat: DEPOT.lat + 1.1 * KM, lng: DEPOT.lng }));
    expect(kinds()).toEqual(['stalled']);
  });

  it('never stalls at its destination, and shows it as arrived', async () => {
    const { every, state } = await fleet();
    await wb.send('truck', 'tr1', every(0, HOUR, 10 * MIN, { speedKph: 0, lat: 40, lng: -89 }));
    expect(wb.alerts).toHaveLength(0);
    expect(state()).toMatchObject({ status: 'arrived', distanceToDestinationKm: 0 });
  });

  it('does not count slow driving as stalled', async () => {
    const { every } = await fleet();
    await wb.send('truck', 'tr1', every(0, HOUR, MIN, { speedKph: 3 }));
    expect(wb.alerts).toHaveLength(0);
  });

  it('alerts once per stall and again after moving on', async () => {
    const { at, every, kinds, state } = await fleet();
    await wb.send('truck', 'tr1', every(0, 30 * MIN, MIN, { speedKph: 0 }));
    await wb.send('truck', 'tr1', at(31 * MIN));
    expect(state().status).toBe('moving');
    await wb.send('truck', 'tr1', every(32 * MIN, 43 * MIN, MIN, { speedKph: 0 }));
    expect(kinds()).toEqual(['stalled', 'stalled']);
  });
});

describe('Off route', () => {
  it('alerts at once beyond 5 km from the corridor, not within it', async () => {
    const { at, kinds, state } = await fleet();
    await wb.send('truck', 'tr1', at(0, { lat: 40 + 4.9 * KM }));
    expect(state().offRouteKm).toBeCloseTo(4.9, 2);
    expect(state().status).toBe('moving');
    expect(wb.alerts).toHaveLength(0);
    await wb.send('truck', 'tr1', at(S, { lat: 40 - 5.1 * KM }));
    expect(kinds()).toEqual(['offRoute']);
    expect(wb.alerts[0]!.severity).toBe('WARNING');
    expect(state().status).toBe('offRoute');
  });

  it('alerts once while off route and again after coming back', async () => {
    const { at, kinds } = await fleet();
    const off = { lat: 40 + 8 * KM };
    await wb.send('truck', 'tr1', [at(0, off), at(MIN, off), at(2 * MIN, off), at(3 * MIN), at(4 * MIN, off)]);
    expect(kinds()).toEqual(['offRoute', 'offRoute']);
  });

  it('measures distance to the corridor between its points, not only to them', async () => {
    const { at, state } = await fleet();
    await wb.send('truck', 'tr1', at(0, { lat: 40, lng: -89.5 }));
    expect(state().offRouteKm).toBeLessThan(0.01);
  });

  it('does not judge a truck without a corridor', async () => {
    const { at, state } = await fleet([{ id: 'tr1', driver: { name: 'Dana', speedAllowanceKph: 100 } }]);
    await wb.send('truck', 'tr1', at(0, { lat: 45, lng: -100 }));
    expect(state().offRouteKm).toBeNull();
    expect(wb.alerts).toHaveLength(0);
  });
});

describe('Driving hours', () => {
  it('alerts when the driver has been on the road over 11 hours, not at exactly 11', async () => {
    const { at, every, kinds, state } = await fleet();
    await wb.send('truck', 'tr1', every(0, 11 * HOUR, HOUR));
    expect(wb.alerts).toHaveLength(0);
    expect(state().shiftStart).toBe(T0);
    await wb.send('truck', 'tr1', at(11 * HOUR + 1));
    expect(kinds()).toEqual(['drivingHours']);
    expect(wb.alerts[0]!.severity).toBe('ERROR');
    await wb.send('truck', 'tr1', every(12 * HOUR, 14 * HOUR, HOUR));
    expect(kinds()).toEqual(['drivingHours']);
  });

  it('keeps counting through breaks shorter than 10 hours', async () => {
    const { every, kinds } = await fleet();
    await wb.send('truck', 'tr1', every(0, 5 * HOUR, HOUR));
    await wb.send('truck', 'tr1', every(5 * HOUR + MIN, 9 * HOUR, HOUR, { speedKph: 0, ...DEPOT }));
    await wb.send('truck', 'tr1', every(9 * HOUR + 30 * MIN, 11 * HOUR + 30 * MIN, HOUR));
    expect(kinds()).toEqual(['drivingHours']);
  });

  it('starts a new shift, re-armed, after a stop of 10 hours', async () => {
    const { at, every, kinds, state } = await fleet();
    await wb.send('truck', 'tr1', every(0, 12 * HOUR, HOUR));
    expect(kinds()).toEqual(['drivingHours']);
    await wb.send('truck', 'tr1', every(12 * HOUR + MIN, 21 * HOUR + MIN, HOUR, { speedKph: 0, ...DEPOT }));
    expect(state().shiftStart).toBe(T0);
    await wb.send('truck', 'tr1', at(22 * HOUR, { speedKph: 0, ...DEPOT }));
    expect(state().shiftStart).toBeNull();
    await wb.send('truck', 'tr1', every(22 * HOUR + MIN, 33 * HOUR + MIN, HOUR));
    expect(state().shiftStart).toBe(T0 + 22 * HOUR + MIN);
    expect(kinds()).toEqual(['drivingHours']);
    await wb.send('truck', 'tr1', at(33 * HOUR + MIN + 1));
    expect(kinds()).toEqual(['drivingHours', 'drivingHours']);
  });

  it('starts a new shift when the truck moves after 10 silent hours', async () => {
    const { at, state } = await fleet();
    await wb.send('truck', 'tr1', [at(0), at(HOUR), at(11 * HOUR)]);
    expect(state().shiftStart).toBe(T0 + 11 * HOUR);
    expect(wb.alerts).toHaveLength(0);
  });
});

describe('Context', () => {
  it('joins each reading with the driver, cargo and route from reference data', async () => {
    const { at, state } = await fleet();
    await wb.send('truck', 'tr1', at(0));
    expect(state()).toMatchObject({
      driver: { name: 'Dana', speedAllowanceKph: 100 },
      cargo: { type: 'frozen food', maxTempC: -18 },
      route: { destination: { name: 'East End', lat: 40, lng: -89 } },
      contextSource: 'reference',
      speedKph: 80,
      cargoTempC: -20,
      fuelPct: 60,
      engineTempC: 90,
      lastTime: T0,
    });
    expect(state().distanceToDestinationKm).toBeCloseTo(0.8 * 85.2, 0);
    expect(wb.twin('truck', 'tr1')).toMatchObject({ lat: 40, lng: -89.8 });
  });

  it('lets an init message set the context over reference data', async () => {
    const { every, state } = await fleet();
    await wb.send('truck', 'tr1', { type: 'init', driver: { speedAllowanceKph: 130 }, cargo: { maxTempC: 5 } });
    await wb.send('truck', 'tr1', every(0, 10 * MIN, MIN, { speedKph: 120, cargoTempC: 0 }));
    expect(wb.alerts).toHaveLength(0);
    expect(state()).toMatchObject({ contextSource: 'init', driver: { name: 'Dana', speedAllowanceKph: 130 }, cargo: { maxTempC: 5 } });
  });

  it('reads the shipped trucks.json when no rows are given', async () => {
    wb = await createWorkbench({ models: [truck], start: T0 });
    await wb.send('truck', 'truck-002', { lat: 32.7767, lng: -96.797, speedKph: 0, timestamp: T0 });
    expect(wb.state<TruckState>('truck', 'truck-002')).toMatchObject({
      driver: { name: 'Ben Okafor', speedAllowanceKph: 110 },
      cargo: { maxTempC: 4 },
      offRouteKm: 0,
    });
  });

  it('refuses a reading without speedKph, naming the field', async () => {
    await fleet();
    await expect(wb.send('truck', 'tr1', { lat: 40, lng: -89, timestamp: T0 })).rejects.toMatchObject({
      code: 'INVALID_MESSAGE',
      message: expect.stringContaining('speedKph'),
    });
  });
});

describe('Delay against the region (delayByRegion feedback)', () => {
  it('compares its delay with the region average and warns when far behind it, once', async () => {
    const { at, state } = await fleet([]);
    for (const id of ['x1', 'x2', 'x3']) await wb.send('truck', id, at(0));
    // x3 stops on the road for an hour (no planned stops without a row)
    await wb.send('truck', 'x3', [at(1 * MIN, { speedKph: 0 }), at(61 * MIN, { speedKph: 0 })]);
    expect(state('x3').delayMin).toBe(60);
    await wb.advance(10 * S);
    wb.clear();
    await wb.send('truck', 'x3', at(62 * MIN, { speedKph: 0 }));
    const s = state('x3');
    // the average the index fed back: (0 + 0 + 60) / 3
    expect(s.regionDelayAvgMin).toBe(20);
    expect(s.delayVsRegionMin).toBe(41);
    expect(s.delayVsRegionMin!).toBeGreaterThan(LATE_VS_REGION_MIN);
    expect(s.region).toBe(state('x1').region);
    expect(wb.alerts.map((a) => (a.data as { kind: string }).kind)).toEqual(['lateVsRegion']);
    await wb.send('truck', 'x3', at(63 * MIN, { speedKph: 0 }));
    expect(wb.alerts).toHaveLength(1);
  });
});
