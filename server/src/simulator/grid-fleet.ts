/**
 * Power-grid nodes (`grid-node`) placed around real US population centres: bigger cities get more
 * nodes, spread wider. Each node reports its security condition; now and then one raises a minor or
 * moderate incident that mostly turns out to be a false alarm, and more rarely a severe one.
 */
import { haversineKm, type LatLng } from '@hextwin/shared';
import type { UsCity } from './cities.js';
import { continentalUsCities } from './cities.js';
import type { Fleet, WireEnvelope } from './fleet.js';
import { Cursor, paddedId } from './fleet.js';
import { clampToContinentalUs, offsetKm, round5 } from './geo.js';
import { Random, WeightedPicker } from './random.js';

export const GridCondition = ['normal', 'offline', 'minor', 'moderate', 'severe'] as const;
export type GridCondition = (typeof GridCondition)[number];
const code = (c: GridCondition): number => GridCondition.indexOf(c);

const NONE = 255;
/** share of nodes that are controllers (the rest are infrastructure) */
const CONTROLLER_SHARE = 0.1;

/** Per message, the chance that a normal node reports each incident (tuned for a calm but living map). */
export const ONSET: readonly [GridCondition, number][] = [
  ['minor', 0.002],
  ['moderate', 0.0001],
  ['offline', 0.0002],
  ['severe', 0.000005],
];
/** Per message, the chance that an incident clears (most minor and moderate ones are false alarms). */
export const CLEAR: Record<GridCondition, number> = { normal: 0, offline: 0.5, minor: 0.7, moderate: 0.6, severe: 0.3 };

export interface GridFleetOptions {
  count: number;
  seed: number | string;
}

export class GridFleet implements Fleet {
  readonly model = 'grid-node';
  readonly rateShare = 1;
  readonly size: number;
  readonly setupSize: number;
  readonly lat: Float64Array;
  readonly lng: Float64Array;
  /** index into `cities` of the population centre a node was placed around */
  readonly home: Int32Array;
  readonly region: string[];
  readonly controller: Uint8Array;
  readonly cities: readonly UsCity[];
  private readonly condition: Uint8Array;
  private readonly forced: Uint8Array;
  private readonly forcedUntil: Float64Array;
  private readonly silentUntil: Float64Array;
  private readonly rng: Random;
  private readonly cursor: Cursor;

  constructor(options: GridFleetOptions) {
    const n = options.count;
    this.size = n;
    this.setupSize = n;
    this.cities = continentalUsCities();
    this.lat = new Float64Array(n);
    this.lng = new Float64Array(n);
    this.home = new Int32Array(n);
    this.region = new Array<string>(n);
    this.controller = new Uint8Array(n);
    this.condition = new Uint8Array(n);
    this.forced = new Uint8Array(n).fill(NONE);
    this.forcedUntil = new Float64Array(n);
    this.silentUntil = new Float64Array(n);
    this.cursor = new Cursor(n);
    const place = Random.derive(options.seed, 'grid-node/placement');
    const picker = new WeightedPicker(this.cities.map((c) => c.population));
    for (let i = 0; i < n; i++) {
      const h = picker.pick(place);
      const city = this.cities[h]!;
      // a big city's grid spreads wider: about 1.5 km for a town, 25 km for New York
      const spread = Math.min(25, 1.5 + Math.sqrt(city.population) / 120);
      const clip = (x: number) => Math.max(-2.5, Math.min(2.5, x));
      const p = clampToContinentalUs(offsetKm(city, clip(place.gaussian()) * spread, clip(place.gaussian()) * spread));
      this.lat[i] = round5(p.lat);
      this.lng[i] = round5(p.lng);
      this.home[i] = h;
      this.region[i] = city.state;
      this.controller[i] = place.chance(CONTROLLER_SHARE) ? 1 : 0;
    }
    this.rng = Random.derive(options.seed, 'grid-node/status');
  }

  id(index: number): string {
    return paddedId('node', index, this.size);
  }

  position(index: number): LatLng {
    return { lat: this.lat[index]!, lng: this.lng[index]! };
  }

  setup(t: number): WireEnvelope[] {
    const out: WireEnvelope[] = [];
    for (let i = 0; i < this.size; i++) {
      out.push({
        model: this.model,
        id: this.id(i),
        message: {
          type: 'init',
          nodeType: this.controller[i] ? 'controller' : 'infrastructure',
          region: this.region[i]!,
          lat: this.lat[i]!,
          lng: this.lng[i]!,
          timestamp: t,
        },
      });
    }
    return out;
  }

  next(t: number): WireEnvelope | undefined {
    const i = this.cursor.advance((j) => this.silentUntil[j]! <= t);
    if (i < 0) return undefined;
    return this.status(i, this.step(i, t), t);
  }

  /** The status message a node sends now. */
  status(index: number, condition: GridCondition, t: number): WireEnvelope {
    return { model: this.model, id: this.id(index), message: { type: 'status', condition, timestamp: t } };
  }

  /** Make a node report `condition` until event time `until`, then recover to normal. */
  force(index: number, condition: GridCondition, until: number): void {
    this.forced[index] = code(condition);
    this.forcedUntil[index] = until;
  }

  /** Make a node go silent until `until` (it reports normal when it comes back). */
  silence(index: number, until: number): void {
    this.silentUntil[index] = until;
    this.forced[index] = code('normal');
    this.forcedUntil[index] = until;
  }

  isSilent(index: number, t: number): boolean {
    return this.silentUntil[index]! > t;
  }

  /** Indexes of the nodes within `km` of `centre`. */
  nodesWithin(centre: LatLng, km: number): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.size; i++) if (haversineKm(centre, this.position(i)) <= km) out.push(i);
    return out;
  }

  nodesInRegion(region: string): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.size; i++) if (this.region[i] === region) out.push(i);
    return out;
  }

  /** Node counts by region, largest first. */
  regions(): { region: string; count: number }[] {
    const counts = new Map<string, number>();
    for (const r of this.region) counts.set(r, (counts.get(r) ?? 0) + 1);
    return [...counts].map(([region, count]) => ({ region, count })).sort((a, b) => b.count - a.count || a.region.localeCompare(b.region));
  }

  /**
   * The condition a scenario makes node `index` report at t (`force`, `silence`), or undefined when
   * none applies: the node goes its own way. The first report after a scenario ends is normal.
   */
  override(index: number, t: number): GridCondition | undefined {
    if (this.forced[index] === NONE) return undefined;
    if (this.forcedUntil[index]! > t) return GridCondition[this.forced[index]!]!;
    this.forced[index] = NONE;
    return 'normal';
  }

  private step(i: number, t: number): GridCondition {
    const forced = this.override(i, t);
    if (forced !== undefined) {
      // the node's own condition picks up from normal once the scenario is over
      this.condition[i] = 0;
      return forced;
    }
    const current = GridCondition[this.condition[i]!]!;
    let nextCondition: GridCondition = current;
    if (current === 'normal') {
      for (const [condition, p] of ONSET) {
        if (this.rng.chance(p)) {
          nextCondition = condition;
          break;
        }
      }
    } else if (this.rng.chance(CLEAR[current])) {
      nextCondition = 'normal';
    }
    this.condition[i] = code(nextCondition);
    return nextCondition;
  }
}
