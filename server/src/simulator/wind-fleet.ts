/**
 * Wind farms of `wind-turbine`s near real small towns of the windy states. A farm's turbines turn
 * with the farm's wind, which swings slowly over hours; now and then one turbine overheats or
 * slows down for a few minutes, which its twin reports.
 */
import type { UsCity } from './cities.js';
import { continentalUsCities, slug } from './cities.js';
import type { Fleet, WireEnvelope } from './fleet.js';
import { Cursor } from './fleet.js';
import { offsetKm, round5 } from './geo.js';
import { Random } from './random.js';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const WINDY_STATES = new Set(['TX', 'IA', 'OK', 'KS', 'WY', 'ND', 'SD', 'NE', 'MN', 'CO', 'IL', 'NM', 'OR', 'WA']);
const TURBINE_MODELS = ['A', 'B', 'C'] as const;
/** per message, the chance that a healthy turbine develops a fault */
const FAULT_CHANCE = 0.0003;

export interface Turbine {
  id: string;
  farm: number;
  lat: number;
  lng: number;
}

interface Farm {
  town: UsCity;
  turbineModel: (typeof TURBINE_MODELS)[number];
  /** days from the start of the simulation to the farm's next maintenance */
  maintenanceInDays: number;
  windPhase: number;
}

interface Fault {
  kind: 'overheat' | 'slow';
  until: number;
}

export class WindFleet implements Fleet {
  readonly model = 'wind-turbine';
  readonly rateShare = 1;
  readonly size: number;
  readonly setupSize: number;
  readonly turbines: Turbine[] = [];
  readonly farms: Farm[] = [];
  private readonly faults = new Map<number, Fault>();
  private readonly rng: Random;
  private readonly cursor: Cursor;

  /** `count` turbines spread over `farms` wind farms. */
  constructor(options: { count: number; farms: number; seed: number | string }) {
    const r = Random.derive(options.seed, 'wind-turbine/placement');
    const seen = new Set<string>();
    // one farm per town name and state, so that turbine ids cannot collide
    const towns = continentalUsCities().filter((c) => {
      const key = `${slug(c.name)}-${c.state}`;
      if (!WINDY_STATES.has(c.state) || c.population >= 15_000 || seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    const farmCount = Math.max(1, Math.min(options.farms, options.count, towns.length));
    const origins = r.sample(towns.length, farmCount).map((i) => {
      const town = towns[i]!;
      this.farms.push({ town, turbineModel: r.pick(TURBINE_MODELS), maintenanceInDays: Math.round(r.range(10, 200)), windPhase: r.range(0, 2 * Math.PI) });
      // the farm stands some km out of town
      return offsetKm(town, r.range(-15, 15), r.range(-15, 15));
    });
    const columns = Math.ceil(Math.sqrt(options.count / farmCount));
    for (let i = 0; i < options.count; i++) {
      const f = i % farmCount;
      const k = Math.floor(i / farmCount);
      const town = this.farms[f]!.town;
      // turbines stand in rows 500 m apart
      const p = offsetKm(origins[f]!, Math.floor(k / columns) * 0.5, (k % columns) * 0.5);
      this.turbines.push({
        id: `wt-${slug(town.name)}-${town.state.toLowerCase()}-${String(k + 1).padStart(2, '0')}`,
        farm: f,
        lat: round5(p.lat),
        lng: round5(p.lng),
      });
    }
    this.size = this.turbines.length;
    this.setupSize = this.size;
    this.cursor = new Cursor(this.size);
    this.rng = Random.derive(options.seed, 'wind-turbine/readings');
  }

  id(index: number): string {
    return this.turbines[index]!.id;
  }

  /** Each turbine's model and next maintenance date (some fall inside the pre-maintenance period). */
  setup(t: number): WireEnvelope[] {
    return this.turbines.map((tb) => {
      const farm = this.farms[tb.farm]!;
      const nextMaintenance = new Date(t + farm.maintenanceInDays * DAY).toISOString().slice(0, 10);
      return { model: this.model, id: tb.id, message: { type: 'init', turbineModel: farm.turbineModel, nextMaintenance, lat: tb.lat, lng: tb.lng } };
    });
  }

  next(t: number): WireEnvelope | undefined {
    const i = this.cursor.advance(() => true);
    return i < 0 ? undefined : this.reading(i, t);
  }

  /** Turbine `index` overheats or slows down until `until`. */
  fault(index: number, kind: Fault['kind'], until: number): void {
    this.faults.set(index, { kind, until });
  }

  reading(index: number, t: number): WireEnvelope {
    const tb = this.turbines[index]!;
    const farm = this.farms[tb.farm]!;
    const r = this.rng;
    let fault = this.faults.get(index);
    if (fault && fault.until <= t) {
      this.faults.delete(index);
      fault = undefined;
    }
    if (!fault && r.chance(FAULT_CHANCE)) {
      fault = { kind: r.chance(0.5) ? 'overheat' : 'slow', until: t + r.range(1, 4) * MINUTE };
      this.faults.set(index, fault);
    }
    // the farm's wind swings over a six-hour period; the rotor follows it
    const wind = Math.sin((2 * Math.PI * t) / (6 * 60 * MINUTE) + farm.windPhase);
    let rpm = 85 + 15 * wind + r.gaussian(0, 2);
    let temp = 55 + 0.3 * (rpm - 70) + r.gaussian(0, 1.5);
    if (fault?.kind === 'slow') rpm = r.range(30, 50);
    if (fault?.kind === 'overheat') temp = r.range(105, 115);
    return {
      model: this.model,
      id: tb.id,
      message: { temp: Math.round(temp * 10) / 10, rpm: Math.round(rpm * 10) / 10, lat: tb.lat, lng: tb.lng, timestamp: t },
    };
  }
}
