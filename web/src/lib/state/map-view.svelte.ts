/**
 * What the operator chose to see on the map (remembered across visits) and what the map currently
 * shows (zoom, hexagon resolution, colour scale) for the legend and the layer control.
 */
import type { MetricOp } from '../graphql/types.ts';
import { MetricOps } from '../graphql/types.ts';
import type { HexScale } from '../map/hex-scale.ts';
import { Persisted } from './persisted.svelte.ts';

export interface HexMetric {
  op: MetricOp;
  /** state field for SUM/AVG/MIN/MAX; absent for COUNT */
  field?: string;
}

export interface MapSettings {
  showTwins: boolean;
  showHexes: boolean;
  /** model of the hexagon layer; null picks the largest model */
  hexModel: string | null;
  hexMetric: HexMetric;
  /** null follows the zoom */
  hexResolution: number | null;
  /** an online MapLibre style URL; null uses the built-in offline basemap */
  styleUrl: string | null;
}

const DEFAULTS: MapSettings = {
  showTwins: true,
  showHexes: true,
  hexModel: null,
  hexMetric: { op: 'COUNT' },
  hexResolution: null,
  styleUrl: null,
};

function isSettings(v: unknown): v is MapSettings {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Partial<MapSettings>;
  return (
    typeof s.showTwins === 'boolean' &&
    typeof s.showHexes === 'boolean' &&
    (s.hexModel === null || typeof s.hexModel === 'string') &&
    typeof s.hexMetric === 'object' &&
    s.hexMetric !== null &&
    (MetricOps as readonly string[]).includes(s.hexMetric.op) &&
    (s.hexResolution === null || typeof s.hexResolution === 'number') &&
    (s.styleUrl === null || typeof s.styleUrl === 'string')
  );
}

/** where the map looks: restored on the next visit */
export interface Camera {
  lng: number;
  lat: number;
  zoom: number;
}

const isCamera = (v: unknown): v is Camera =>
  typeof v === 'object' && v !== null && ['lng', 'lat', 'zoom'].every((k) => Number.isFinite((v as Record<string, unknown>)[k]));

export class MapView {
  readonly camera = new Persisted<Camera>('hextwin.camera', { lng: -97, lat: 38.5, zoom: 3.4 }, isCamera);
  #settings = new Persisted<MapSettings>('hextwin.map', { ...DEFAULTS, styleUrl: import.meta.env.VITE_BASEMAP_STYLE_URL ?? null }, isSettings);
  #zoom = $state(3);
  #resolution = $state(2);
  #scale = $state.raw<HexScale | null>(null);
  #cells = $state(0);

  get settings(): MapSettings {
    return this.#settings.current;
  }

  update(patch: Partial<MapSettings>): void {
    this.#settings.current = { ...this.#settings.current, ...patch };
  }

  get zoom(): number {
    return this.#zoom;
  }
  set zoom(z: number) {
    this.#zoom = z;
  }

  /** the resolution the hexagon layer currently aggregates at */
  get resolution(): number {
    return this.#resolution;
  }
  set resolution(r: number) {
    this.#resolution = r;
  }

  get scale(): HexScale | null {
    return this.#scale;
  }
  set scale(s: HexScale | null) {
    this.#scale = s;
  }

  get cells(): number {
    return this.#cells;
  }
  set cells(n: number) {
    this.#cells = n;
  }
}
