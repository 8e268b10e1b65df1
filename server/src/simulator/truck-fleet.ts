/**
 * A fleet of refrigerated trucks (`truck`) driving between real US cities. Each truck works one lane
 * between two cities a few hundred km apart: a leg at the driver's cruising speed, a stop at the end
 * (a long rest once the driver has driven 8 hours), then the leg back. A few drivers speed, a few
 * trucks stall on the way, a few reefers fail and let the cargo warm up.
 *
 * The truck model takes a truck's context (driver, cargo, route, planned stops) from an init
 * message: one goes out for each truck at setup, and again whenever a truck turns round, so that
 * its route's destination is the city it is heading for.
 */
import type { UsCity } from './cities.js';
import { citiesOver } from './cities.js';
import { haversineKm, type JsonObject, type LatLng } from '@hextwin/shared';
import type { Fleet, WireEnvelope } from './fleet.js';
import { Cursor, paddedId } from './fleet.js';
import { interpolate, round5 } from './geo.js';
import { Random, WeightedPicker } from './random.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** roads are longer than the straight line */
const ROAD_FACTOR = 1.2;
const MIN_LEG_KM = 150;
const MAX_LEG_KM = 900;
const MIN_CITY_POPULATION = 50_000;
/** a full tank lasts about 2,000 km */
const FUEL_PCT_PER_KM = 0.05;
/** a truck parked within this distance of a lane's end is at a planned stop */
const STOP_RADIUS_KM = 3;

/** What a truck carries: the reefer's set point and the cargo's maximum temperature, °C. */
const CARGOES = [
  { type: 'fresh produce', setPointC: 3, maxTempC: 8, share: 0.6 },
  { type: 'frozen food', setPointC: -20, maxTempC: -15, share: 0.25 },
  { type: 'dry goods', setPointC: 18, maxTempC: 30, share: 0.15 },
] as const;
type Cargo = (typeof CARGOES)[number];

const FIRST_NAMES = ['Ana', 'Ben', 'Chen', 'Dana', 'Eli', 'Fatima', 'Gus', 'Hana', 'Ivan', 'Jo', 'Kofi', 'Lena', 'Marco', 'Nia', 'Omar', 'Priya'];
const LAST_NAMES = ['Ruiz', 'Okafor', 'Smith', 'Nguyen', 'Kowalski', 'Haddad', 'Johnson', 'Sato', 'Petrov', 'Garcia', 'Mensah', 'Larsen'];

export interface Leg {
  from: UsCity;
  to: UsCity;
  km: number;
  departAt: number;
  /** when the truck stalls on the way (0: it does not), and for how long */
  stallAt: number;
  stallMs: number;
  arriveAt: number;
  /** the truck leaves for its next leg then */
  leaveAt: number;
}

/** The two cities a truck shuttles between: its route, for reference data (driver, route, cargo). */
export interface Lane {
  origin: UsCity;
  destination: UsCity;
}

interface Truck {
  lane: Lane;
  driver: string;
  speedAllowanceKph: number;
  cargo: Cargo;
  cruiseKph: number;
  reeferFails: boolean;
  fuelPct: number;
  drivenSinceRestMs: number;
  leg: Leg | undefined;
  /** the leg the last init message described */
  announced: Leg | undefined;
}

export class TruckFleet implements Fleet {
  readonly model = 'truck';
  readonly rateShare = 1;
  readonly size: number;
  readonly setupSize: number;
  readonly cities: readonly UsCity[];
  private readonly trucks: Truck[];
  private readonly rng: Random;
  private readonly cursor: Cursor;

  constructor(options: { count: number; seed: number | string }) {
    this.size = options.count;
    this.setupSize = options.count;
    this.cities = citiesOver(MIN_CITY_POPULATION);
    this.cursor = new Cursor(this.size);
    const r = Random.derive(options.seed, 'truck/fleet');
    const picker = new WeightedPicker(this.cities.map((c) => Math.sqrt(c.population)));
    this.trucks = [];
    for (let i = 0; i < this.size; i++) {
      const speeder = r.chance(0.05);
      const x = r.next();
      this.trucks.push({
        lane: this.pickLane(picker.pick(r), r),
        driver: `${r.pick(FIRST_NAMES)} ${r.pick(LAST_NAMES)}`,
        speedAllowanceKph: 5 * Math.round(r.range(100, 110) / 5),
        cargo: x < CARGOES[0].share ? CARGOES[0] : x < CARGOES[0].share + CARGOES[1].share ? CARGOES[1] : CARGOES[2],
        cruiseKph: speeder ? r.range(112, 122) : r.range(85, 100),
        reeferFails: r.chance(0.01),
        fuelPct: r.range(40, 100),
        drivenSinceRestMs: 0,
        leg: undefined,
        announced: undefined,
      });
    }
    this.rng = Random.derive(options.seed, 'truck/drive');
  }

  id(index: number): string {
    return paddedId('truck', index, this.size);
  }

  /** Each truck's context: driver, cargo, route to where it is heading, the lane's ends as planned stops. */
  setup(t: number): WireEnvelope[] {
    return this.trucks.map((_, i) => this.init(i, t));
  }

  next(t: number): WireEnvelope | undefined {
    const i = this.cursor.advance(() => true);
    return i < 0 ? undefined : this.message(i, t);
  }

  /** What truck `index` sends at t: an init when it turned round (its reading comes next time), else a reading. */
  message(i: number, t: number): WireEnvelope {
    if (this.leg(i, t) !== this.trucks[i]!.announced) return this.init(i, t);
    return { model: this.model, id: this.id(i), message: this.reading(i, t) };
  }

  /** The init message for truck `index` on its leg at t. */
  init(index: number, t: number): WireEnvelope {
    const truck = this.trucks[index]!;
    const leg = this.leg(index, t);
    truck.announced = leg;
    const place = (c: UsCity): JsonObject => ({ name: `${c.name}, ${c.state}`, lat: c.lat, lng: c.lng });
    const { origin, destination } = truck.lane;
    return {
      model: this.model,
      id: this.id(index),
      message: {
        type: 'init',
        driver: { name: truck.driver, speedAllowanceKph: truck.speedAllowanceKph },
        cargo: { type: truck.cargo.type, maxTempC: truck.cargo.maxTempC },
        route: { destination: place(leg.to), corridor: [place(leg.from), place(leg.to)] },
        plannedStops: [origin, destination].map((c) => ({ ...place(c), radiusKm: STOP_RADIUS_KM })),
        timestamp: t,
      },
    };
  }

  /** The truck's current leg at event time t (legs advance as time passes). */
  leg(index: number, t: number): Leg {
    const truck = this.trucks[index]!;
    if (!truck.leg) {
      // join the simulation somewhere along a first leg
      const leg = this.plan(truck, truck.lane.origin, t);
      const shift = this.rng.next() * (leg.arriveAt - leg.departAt);
      truck.leg = {
        ...leg,
        departAt: leg.departAt - shift,
        arriveAt: leg.arriveAt - shift,
        leaveAt: leg.leaveAt - shift,
        stallAt: leg.stallAt && leg.stallAt - shift,
      };
    }
    while (truck.leg.leaveAt <= t) {
      const done = truck.leg;
      truck.fuelPct = Math.max(0, truck.fuelPct - done.km * FUEL_PCT_PER_KM);
      if (truck.fuelPct < 50) truck.fuelPct = 100;
      truck.leg = this.plan(truck, done.to, done.leaveAt);
    }
    return truck.leg;
  }

  lane(index: number): Lane {
    return this.trucks[index]!.lane;
  }

  /** Where the truck is at event time t. */
  position(index: number, t: number): LatLng {
    const leg = this.leg(index, t);
    return interpolate(leg.from, leg.to, this.progress(leg, t));
  }

  private reading(i: number, t: number) {
    const truck = this.trucks[i]!;
    const leg = this.leg(i, t);
    const f = this.progress(leg, t);
    const p = interpolate(leg.from, leg.to, f);
    const stalled = leg.stallAt > 0 && t >= leg.stallAt && t < leg.stallAt + leg.stallMs;
    const moving = t < leg.arriveAt && !stalled;
    const r = this.rng;
    const fuelPct = Math.max(0, truck.fuelPct - leg.km * f * FUEL_PCT_PER_KM);
    // a failing reefer lets the cargo warm up by about 2 °C an hour on the road
    const set = truck.cargo.setPointC;
    const cargoTempC = truck.reeferFails ? set + Math.min(15, (Math.max(0, t - leg.departAt) / HOUR) * 2) : r.range(set - 1.5, set + 1.5);
    return {
      lat: round5(p.lat),
      lng: round5(p.lng),
      speedKph: moving ? Math.round(Math.max(0, r.gaussian(truck.cruiseKph, 3)) * 10) / 10 : 0,
      engineTempC: Math.round((moving ? r.range(88, 96) : r.range(40, 60)) * 10) / 10,
      cargoTempC: Math.round(cargoTempC * 10) / 10,
      fuelPct: Math.round(fuelPct * 10) / 10,
      timestamp: t,
    };
  }

  /** Fraction of the leg covered at t (the truck does not move while stalled). */
  private progress(leg: Leg, t: number): number {
    if (t >= leg.arriveAt) return 1;
    let driving = Math.max(0, t - leg.departAt);
    if (leg.stallAt > 0 && t > leg.stallAt) driving -= Math.min(t, leg.stallAt + leg.stallMs) - leg.stallAt;
    const total = leg.arriveAt - leg.departAt - (leg.stallAt > 0 ? leg.stallMs : 0);
    return Math.min(1, Math.max(0, driving / total));
  }

  /** A lane from city `from` to a city 150 to 900 km away (the nearest one beyond 150 km for an isolated city). */
  private pickLane(from: number, r: Random): Lane {
    const origin = this.cities[from]!;
    const far = this.cities.map((c) => ({ c, d: haversineKm(origin, c) })).filter((x) => x.d >= MIN_LEG_KM);
    const inRange = far.filter((x) => x.d <= MAX_LEG_KM);
    if (inRange.length > 0) return { origin, destination: r.pick(inRange).c };
    return { origin, destination: far.reduce((best, x) => (x.d < best.d ? x : best)).c };
  }

  private plan(truck: Truck, from: UsCity, departAt: number): Leg {
    const r = this.rng;
    const to = from === truck.lane.origin ? truck.lane.destination : truck.lane.origin;
    const km = haversineKm(from, to) * ROAD_FACTOR;
    const driveMs = (km / truck.cruiseKph) * HOUR;
    const stalls = r.chance(0.03);
    const stallMs = stalls ? r.range(12, 20) * MINUTE : 0;
    const stallAt = stalls ? departAt + r.range(0.2, 0.8) * driveMs : 0;
    const arriveAt = departAt + driveMs + stallMs;
    truck.drivenSinceRestMs += driveMs;
    const rest = truck.drivenSinceRestMs > 8 * HOUR;
    if (rest) truck.drivenSinceRestMs = 0;
    const leaveAt = arriveAt + (rest ? 10 * HOUR : r.range(30, 90) * MINUTE);
    return { from, to, km, departAt, stallAt, stallMs, arriveAt, leaveAt };
  }
}
