/**
 * `truck`: fleet telematics. Joins each reading with the truck's context from reference data
 * (`data/trucks.json`, one row per truck id: driver, route, cargo, planned stops) and raises five
 * kinds of alert, each once per episode (re-armed when the condition clears):
 *
 * | kind          | condition                                                      | severity |
 * |---------------|----------------------------------------------------------------|----------|
 * | speeding      | faster than the driver's speed allowance for over 60 s         | WARNING  |
 * | cargoTemp     | cargo warmer than its maximum for over 5 minutes               | ERROR    |
 * | stalled       | speed 0 away from any planned stop for over 10 minutes         | WARNING  |
 * | offRoute      | more than 5 km from the route corridor                         | WARNING  |
 * | drivingHours  | driver on the road over 11 hours (a 10-hour stop ends a shift) | ERROR    |
 *
 * Alert `data.kind` names the kind. `status` (moving, stopped, stalled, offRoute, arrived) is for
 * maps and aggregates. A reference row looks like
 * `{ id, driver: { name, speedAllowanceKph }, cargo: { type, maxTempC }, route: { destination: { name, lat, lng },
 * corridor: [{ lat, lng }, …] }, plannedStops: [{ name, lat, lng, radiusKm? }] }`. A message
 * `{ type: "init", driver?, route?, cargo?, plannedStops? }` in the same shape sets the context for a
 * truck without a row (a simulator's fleet); it wins over reference data.
 *
 * Feedback from the fleet (the `delayByRegion` aggregate, refreshed every 10 s): `delayMin` counts
 * the minutes of this shift spent stopped away from planned stops, `region` is the truck's H3
 * resolution-3 cell, and `delayVsRegionMin` compares the truck's delay with its region's average. A
 * truck more than LATE_VS_REGION_MIN behind the average of a region with at least 3 trucks raises
 * a `lateVsRegion` WARNING, once per episode.
 */
import { fileURLToPath } from 'node:url';
import { latLngToCell } from 'h3-js';
import { defineModel, eventTime, haversineKm, Severity, type JsonValue, type LatLng, type ReferenceRow, type TwinContext } from '@hextwin/shared';
import { distanceToPolylineKm } from './geo.js';
import { latSchema, lngSchema, nullable, timestampSchema } from './schema.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
export const SPEEDING_MS = 60_000;
export const CARGO_HOT_MS = 5 * MINUTE;
export const STALLED_MS = 10 * MINUTE;
export const OFF_ROUTE_KM = 5;
export const MAX_DRIVING_MS = 11 * HOUR;
/** A stop this long ends the driver's shift: the next movement starts a new one. */
export const REST_MS = 10 * HOUR;
/** A truck this close to a planned stop (or its destination) is at it, unless the stop says otherwise. */
export const STOP_RADIUS_KM = 1;
/** Used when no reference data or init message gives the driver's allowance. */
export const DEFAULT_SPEED_ALLOWANCE_KPH = 100;

export const TruckAlert = {
  speeding: { severity: Severity.WARNING, title: 'Speeding' },
  cargoTemp: { severity: Severity.ERROR, title: 'Cargo too warm' },
  stalled: { severity: Severity.WARNING, title: 'Truck stalled' },
  offRoute: { severity: Severity.WARNING, title: 'Truck off route' },
  drivingHours: { severity: Severity.ERROR, title: 'Driver over hours' },
} as const;
export type TruckAlertKind = keyof typeof TruckAlert;

/** Fleet feedback: how much later than its region's average a truck must be to alert. */
export const LATE_VS_REGION_MIN = 30;
export const REGION_RESOLUTION = 3;
const REGION_MIN_TRUCKS = 3;
export const LateVsRegionAlert = { severity: Severity.WARNING, title: 'Truck late against its region' } as const;

export type TruckStatus = 'unknown' | 'moving' | 'stopped' | 'stalled' | 'offRoute' | 'arrived';

export interface Place extends LatLng {
  name?: string;
  radiusKm?: number;
}

export interface Driver {
  name: string | null;
  speedAllowanceKph: number;
}

export interface Cargo {
  type: string | null;
  maxTempC: number | null;
}

export interface Route {
  destination: Place | null;
  /** the planned path, as points in travel order */
  corridor: LatLng[];
}

export interface TruckReading {
  lat: number;
  lng: number;
  speedKph: number;
  engineTempC?: number;
  cargoTempC?: number;
  fuelPct?: number;
  timestamp: number | string;
}

export interface TruckInit {
  type: 'init';
  driver?: Partial<Driver>;
  route?: Partial<Route>;
  cargo?: Partial<Cargo>;
  plannedStops?: Place[];
}

export type TruckMessage = (TruckReading & { type?: undefined }) | TruckInit;

/** A condition that alerts once it has lasted long enough, once per episode. */
export interface Episode {
  since: number | null;
  alerted: boolean;
}

export interface TruckState {
  lat: number | null;
  lng: number | null;
  speedKph: number | null;
  engineTempC: number | null;
  cargoTempC: number | null;
  fuelPct: number | null;
  lastTime: number | null;
  status: TruckStatus;
  driver: Driver;
  cargo: Cargo;
  route: Route;
  plannedStops: Place[];
  contextSource: 'init' | 'reference' | null;
  /** distance from the route corridor; null without a corridor */
  offRouteKm: number | null;
  distanceToDestinationKm: number | null;
  /** start of the driver's current shift; null when off duty */
  shiftStart: number | null;
  lastMovingAt: number | null;
  episodes: Record<TruckAlertKind, Episode>;
  /** H3 cell (resolution 3) of the last position: the group of the fleet feedback */
  region: string | null;
  /** minutes of this shift stopped away from planned stops */
  delayMin: number;
  /** the region's average delayMin as last fed back; null before the first feedback */
  regionDelayAvgMin: number | null;
  delayVsRegionMin: number | null;
  lateVsRegion: Episode;
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function toPlace(v: unknown): Place | undefined {
  if (!isObj(v) || !isNum(v.lat) || !isNum(v.lng)) return undefined;
  return {
    lat: v.lat,
    lng: v.lng,
    ...(typeof v.name === 'string' ? { name: v.name } : {}),
    ...(isNum(v.radiusKm) ? { radiusKm: v.radiusKm } : {}),
  };
}

const toPlaces = (v: unknown): Place[] => (Array.isArray(v) ? v.map(toPlace).filter((p): p is Place => p !== undefined) : []);

/** Apply the parts of a context (reference row or init message) that are present and well-formed. */
function applyContext(state: TruckState, ctx: Record<string, unknown>): void {
  const { driver, cargo, route, plannedStops } = ctx;
  if (isObj(driver)) {
    if (typeof driver.name === 'string') state.driver.name = driver.name;
    if (isNum(driver.speedAllowanceKph)) state.driver.speedAllowanceKph = driver.speedAllowanceKph;
  }
  if (isObj(cargo)) {
    if (typeof cargo.type === 'string') state.cargo.type = cargo.type;
    if (isNum(cargo.maxTempC)) state.cargo.maxTempC = cargo.maxTempC;
  }
  if (isObj(route)) {
    const destination = toPlace(route.destination);
    if (destination) state.route.destination = destination;
    if (Array.isArray(route.corridor)) state.route.corridor = toPlaces(route.corridor).map(({ lat, lng }) => ({ lat, lng }));
  }
  if (Array.isArray(plannedStops)) state.plannedStops = toPlaces(plannedStops);
}

/** The row each state was last given, so a batch copies a route only when the reference data changed. */
const appliedRows = new WeakMap<TruckState, ReferenceRow>();

function applyReference(state: TruckState, row: ReferenceRow | undefined): void {
  if (state.contextSource === 'init' || !row || appliedRows.get(state) === row) return;
  applyContext(state, row);
  state.contextSource = 'reference';
  appliedRows.set(state, row);
}

/** Advance an episode; true exactly when its alert is due (lasted over `overMs`, not yet alerted). */
function episode(e: Episode, active: boolean, t: number, overMs: number): boolean {
  if (!active) {
    e.since = null;
    e.alerted = false; // re-armed
    return false;
  }
  e.since ??= t;
  if (e.alerted || !(t - e.since > overMs || overMs === 0)) return false;
  e.alerted = true;
  return true;
}

function raise(ctx: TwinContext, kind: TruckAlertKind, message: string, data: Record<string, JsonValue>): void {
  ctx.alert({ ...TruckAlert[kind], message, data: { kind, ...data } });
}

function newEpisodes(): Record<TruckAlertKind, Episode> {
  const e = (): Episode => ({ since: null, alerted: false });
  return { speeding: e(), cargoTemp: e(), stalled: e(), offRoute: e(), drivingHours: e() };
}

/** Compare the truck's delay with its region's average (fed back by the index). */
function judgeAgainstRegion(ctx: TwinContext, s: TruckState, t: number): void {
  const g = s.region === null ? undefined : ctx.aggregate('delayByRegion', s.region);
  const avg = g && g.count >= REGION_MIN_TRUCKS ? (g.values[0] ?? null) : null;
  s.regionDelayAvgMin = avg;
  s.delayVsRegionMin = avg === null ? null : s.delayMin - avg;
  const late = s.delayVsRegionMin !== null && s.delayVsRegionMin > LATE_VS_REGION_MIN;
  if (episode((s.lateVsRegion ??= { since: null, alerted: false }), late, t, 0)) {
    ctx.alert({
      ...LateVsRegionAlert,
      message: `${Math.round(s.delayMin)} min of delay; trucks in this region average ${Math.round(avg!)} min`,
      data: { kind: 'lateVsRegion', delayMin: s.delayMin, regionDelayAvgMin: avg, region: s.region },
    });
  }
}

function applyReading(ctx: TwinContext, s: TruckState, m: TruckReading): void {
  const t = eventTime(m.timestamp) ?? ctx.now();
  const here = { lat: m.lat, lng: m.lng };
  s.delayMin ??= 0; // a state from before the fleet feedback
  const sincePrevious = s.lastTime !== null && s.speedKph !== null && s.speedKph <= 0 ? Math.max(0, t - s.lastTime) : 0;
  Object.assign(s, { lat: m.lat, lng: m.lng, speedKph: m.speedKph, lastTime: t });
  if (m.engineTempC !== undefined) s.engineTempC = m.engineTempC;
  if (m.cargoTempC !== undefined) s.cargoTempC = m.cargoTempC;
  if (m.fuelPct !== undefined) s.fuelPct = m.fuelPct;

  const dest = s.route.destination;
  s.distanceToDestinationKm = dest ? haversineKm(here, dest) : null;
  s.offRouteKm = s.route.corridor.length > 0 ? distanceToPolylineKm(here, s.route.corridor) : null;
  const atDestination = dest !== null && s.distanceToDestinationKm! <= (dest.radiusKm ?? STOP_RADIUS_KM);
  const atPlannedStop = atDestination || s.plannedStops.some((p) => haversineKm(here, p) <= (p.radiusKm ?? STOP_RADIUS_KM));
  const stopped = m.speedKph <= 0;

  // the driver's shift: starts at the first movement, ends with a long enough stop
  const rested = s.lastMovingAt !== null && t - s.lastMovingAt >= REST_MS;
  if (!stopped) {
    if (s.shiftStart === null || rested) {
      s.shiftStart = t;
      s.episodes.drivingHours = { since: t, alerted: false }; // a new shift re-arms the hours alert
      s.delayMin = 0;
    }
    s.lastMovingAt = t;
  } else if (rested) {
    s.shiftStart = null;
  }

  const allowance = s.driver.speedAllowanceKph;
  if (episode(s.episodes.speeding, m.speedKph > allowance, t, SPEEDING_MS)) {
    raise(ctx, 'speeding', `${m.speedKph} km/h for over a minute; ${s.driver.name ?? 'the driver'} is allowed ${allowance} km/h`, {
      speedKph: m.speedKph,
      allowanceKph: allowance,
      since: s.episodes.speeding.since,
    });
  }
  const maxC = s.cargo.maxTempC;
  const cargoHot = maxC !== null && s.cargoTempC !== null && s.cargoTempC > maxC;
  if (episode(s.episodes.cargoTemp, cargoHot, t, CARGO_HOT_MS)) {
    raise(ctx, 'cargoTemp', `cargo at ${s.cargoTempC} °C for over 5 minutes; maximum ${maxC} °C`, {
      cargoTempC: s.cargoTempC,
      maxTempC: maxC,
      since: s.episodes.cargoTemp.since,
    });
  }
  if (episode(s.episodes.stalled, stopped && !atPlannedStop, t, STALLED_MS)) {
    raise(ctx, 'stalled', 'stopped away from any planned stop for over 10 minutes', {
      lat: m.lat,
      lng: m.lng,
      since: s.episodes.stalled.since,
    });
  }
  const offRoute = s.offRouteKm !== null && s.offRouteKm > OFF_ROUTE_KM;
  if (episode(s.episodes.offRoute, offRoute, t, 0)) {
    raise(ctx, 'offRoute', `${s.offRouteKm!.toFixed(1)} km from the planned route`, { offRouteKm: s.offRouteKm, lat: m.lat, lng: m.lng });
  }
  // the hours episode is the shift itself: it began at shiftStart
  if (episode(s.episodes.drivingHours, s.shiftStart !== null, t, MAX_DRIVING_MS)) {
    raise(ctx, 'drivingHours', `${s.driver.name ?? 'the driver'} has been on the road for over 11 hours`, {
      shiftStart: s.shiftStart,
      driver: s.driver.name,
    });
  }

  // the stop that just ended (or goes on) away from planned stops delays the truck
  if (sincePrevious > 0 && !atPlannedStop && s.shiftStart !== null) s.delayMin += sincePrevious / MINUTE;
  s.region = latLngToCell(m.lat, m.lng, REGION_RESOLUTION);

  const stalled = s.episodes.stalled.since !== null && t - s.episodes.stalled.since > STALLED_MS;
  s.status = stalled ? 'stalled' : offRoute ? 'offRoute' : stopped ? (atDestination ? 'arrived' : 'stopped') : 'moving';
}

const placeSchema = {
  type: 'object',
  required: ['lat', 'lng'],
  properties: { name: { type: 'string' }, lat: latSchema, lng: lngSchema, radiusKm: { type: 'number', minimum: 0 } },
};

export const truck = defineModel<TruckState, TruckMessage>({
  name: 'truck',
  description: 'Fleet telematics: speeding, cargo temperature, stalls, route deviation and driving hours.',
  reference: { file: fileURLToPath(new URL('./data/trucks.json', import.meta.url)), idField: 'id' },
  aggregates: { delayByRegion: { model: 'truck', groupBy: 'region', metrics: [{ field: 'delayMin', op: 'AVG' }], everyMs: 10_000 } },
  init(_id, ctx) {
    const state: TruckState = {
      lat: null,
      lng: null,
      speedKph: null,
      engineTempC: null,
      cargoTempC: null,
      fuelPct: null,
      lastTime: null,
      status: 'unknown',
      driver: { name: null, speedAllowanceKph: DEFAULT_SPEED_ALLOWANCE_KPH },
      cargo: { type: null, maxTempC: null },
      route: { destination: null, corridor: [] },
      plannedStops: [],
      contextSource: null,
      offRouteKm: null,
      distanceToDestinationKm: null,
      shiftStart: null,
      lastMovingAt: null,
      episodes: newEpisodes(),
      region: null,
      delayMin: 0,
      regionDelayAvgMin: null,
      delayVsRegionMin: null,
      lateVsRegion: { since: null, alerted: false },
    };
    applyReference(state, ctx.reference);
    return state;
  },
  process(ctx, state, messages) {
    applyReference(state, ctx.reference); // reference data may have been reloaded
    for (const m of messages) {
      if (m.type === 'init') {
        applyContext(state, m as unknown as Record<string, unknown>);
        state.contextSource = 'init';
      } else {
        applyReading(ctx, state, m);
      }
    }
    if (state.lastTime !== null) judgeAgainstRegion(ctx, state, state.lastTime);
    return 'update';
  },
  location: (s) => (s.lat !== null && s.lng !== null ? { lat: s.lat, lng: s.lng } : undefined),
  level: (s) => (s.status === 'stalled' || s.status === 'offRoute' ? Severity.WARNING : undefined),
  messageSchema: {
    type: 'object',
    // the fields first, then which are required: an init message, or else a reading
    allOf: [
      {
        properties: {
          type: { const: 'init' },
          lat: latSchema,
          lng: lngSchema,
          speedKph: { type: 'number', minimum: 0 },
          engineTempC: { type: 'number' },
          cargoTempC: { type: 'number' },
          fuelPct: { type: 'number', minimum: 0, maximum: 100 },
          timestamp: timestampSchema,
          driver: {
            type: 'object',
            properties: { name: { type: 'string' }, speedAllowanceKph: { type: 'number', exclusiveMinimum: 0 } },
          },
          cargo: { type: 'object', properties: { type: { type: 'string' }, maxTempC: { type: 'number' } } },
          route: {
            type: 'object',
            properties: { destination: placeSchema, corridor: { type: 'array', items: placeSchema } },
          },
          plannedStops: { type: 'array', items: placeSchema },
        },
      },
      {
        if: { required: ['type'] },
        else: { required: ['lat', 'lng', 'speedKph', 'timestamp'] },
      },
    ],
  },
  stateSchema: {
    type: 'object',
    properties: {
      lat: nullable('number'),
      lng: nullable('number'),
      speedKph: nullable('number'),
      engineTempC: nullable('number'),
      cargoTempC: nullable('number'),
      fuelPct: nullable('number'),
      lastTime: nullable('number'),
      status: { enum: ['unknown', 'moving', 'stopped', 'stalled', 'offRoute', 'arrived'] },
      driver: { type: 'object', properties: { name: nullable('string'), speedAllowanceKph: { type: 'number' } } },
      cargo: { type: 'object', properties: { type: nullable('string'), maxTempC: nullable('number') } },
      route: { type: 'object', properties: { destination: nullable('object'), corridor: { type: 'array' } } },
      plannedStops: { type: 'array' },
      contextSource: { enum: ['init', 'reference', null] },
      offRouteKm: nullable('number'),
      distanceToDestinationKm: nullable('number'),
      shiftStart: nullable('number'),
      lastMovingAt: nullable('number'),
      episodes: { type: 'object' },
      region: nullable('string'),
      delayMin: { type: 'number', minimum: 0 },
      regionDelayAvgMin: nullable('number'),
      delayVsRegionMin: nullable('number'),
      lateVsRegion: { type: 'object' },
    },
  },
});
