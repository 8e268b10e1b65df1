/**
 * Gas sensors (`gas-sensor`) at sites in a few large US cities. They read a few ppm in normal times;
 * a leak (see the gas-leak scenario) raises nearby sensors' readings until the leak ends or the
 * sensor's device obeys a `shutdown` command from its twin.
 */
import type { JsonValue } from '@hextwin/shared';
import type { UsCity } from './cities.js';
import { metroCentres, slug } from './cities.js';
import type { Fleet, WireEnvelope } from './fleet.js';
import { Cursor, paddedId } from './fleet.js';
import { offsetKm, round5 } from './geo.js';
import { Random } from './random.js';

export interface GasSensor {
  id: string;
  city: UsCity;
  site: string;
  lat: number;
  lng: number;
}

interface Leak {
  ppm: number;
  until: number;
}

export class GasFleet implements Fleet {
  readonly model = 'gas-sensor';
  readonly setupSize = 0;
  readonly rateShare = 1;
  readonly size: number;
  readonly sensors: GasSensor[] = [];
  readonly cities: readonly UsCity[];
  private readonly leaks = new Map<number, Leak>();
  private readonly byId = new Map<string, number>();
  private readonly rng: Random;
  private readonly cursor: Cursor;

  /**
   * `count` sensors spread over sites in the `cities` largest metropolitan areas, with ids
   * `gas-{city}-01`…, or `{idPrefix}-0001`… when given.
   */
  constructor(options: { count: number; cities: number; seed: number | string; idPrefix?: string }) {
    const r = Random.derive(options.seed, 'gas-sensor/placement');
    this.cities = metroCentres(Math.max(1, Math.min(options.cities, options.count)));
    for (let i = 0; i < options.count; i++) {
      const city = this.cities[i % this.cities.length]!;
      const k = Math.floor(i / this.cities.length);
      const p = offsetKm(city, r.gaussian(0, 4), r.gaussian(0, 4));
      const id = options.idPrefix ? paddedId(options.idPrefix, i, options.count) : `gas-${slug(city.name)}-${String(k + 1).padStart(2, '0')}`;
      this.byId.set(id, this.sensors.length);
      this.sensors.push({ id, city, site: `${city.name} site ${k + 1}`, lat: round5(p.lat), lng: round5(p.lng) });
    }
    this.size = this.sensors.length;
    this.cursor = new Cursor(this.size);
    this.rng = Random.derive(options.seed, 'gas-sensor/readings');
  }

  id(index: number): string {
    return this.sensors[index]!.id;
  }

  /** The index of the sensor with this id, or -1. */
  indexOf(id: string): number {
    return this.byId.get(id) ?? -1;
  }

  setup(): WireEnvelope[] {
    return [];
  }

  next(t: number): WireEnvelope | undefined {
    const i = this.cursor.advance(() => true);
    return i < 0 ? undefined : this.reading(i, t);
  }

  /** The reading sensor `index` sends at t. */
  reading(index: number, t: number): WireEnvelope {
    const s = this.sensors[index]!;
    const leak = this.leaks.get(index);
    let ppm: number;
    if (leak && leak.until > t) ppm = leak.ppm * this.rng.range(0.95, 1.05);
    else {
      if (leak) this.leaks.delete(index);
      ppm = this.rng.range(2, 12);
    }
    return { model: this.model, id: s.id, message: { ppm: Math.round(ppm * 10) / 10, timestamp: t, lat: s.lat, lng: s.lng, site: s.site } };
  }

  /** Sensor `index` reads about `ppm` until event time `until`. */
  leak(index: number, ppm: number, until: number): void {
    this.leaks.set(index, { ppm, until });
  }

  leaking(index: number, t: number): boolean {
    const leak = this.leaks.get(index);
    return leak !== undefined && leak.until > t;
  }

  /** The device shuts its gas pipe: the leak at that sensor stops. */
  onCommand(id: string, command: JsonValue): void {
    const index = this.byId.get(id);
    if (index === undefined) return;
    if (typeof command === 'object' && command !== null && !Array.isArray(command) && command.command === 'shutdown') this.leaks.delete(index);
  }
}
