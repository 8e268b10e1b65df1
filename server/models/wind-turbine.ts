/**
 * `wind-turbine`: watches over-temperature and low rotor speed. A condition that lasts more than
 * 20 s (10 s in the pre-maintenance period, when wear makes it riskier) tells the device and raises
 * an ERROR alert, repeated at most every 30 s while it lasts. Keeps the last 2,000 readings and
 * hourly averages of the last 24 hours.
 *
 * Parameters (turbine model and next maintenance date) come from `data/turbines.csv`, one row per
 * turbine id; an init message `{ type: "init", turbineModel, nextMaintenance }` overrides them.
 *
 * On top of that specified behaviour, two streaming detectors watch the readings the conditions do
 * not cover (temperatures up to 100 °C, speeds from 60 rpm; their state is in `detectors`): a
 * temperature far outside its recent weighted mean and spread is a WARNING "Turbine temperature
 * anomaly" (once on entering, again after a normal reading), and a lasting shift of the rotor speed
 * level is an INFO "Rotor speed level shifted". Readings in a condition are left out, so a fault and
 * its recovery are reported by the specified commands and ERROR alerts alone, which stay as they are.
 */
import { fileURLToPath } from 'node:url';
import {
  changePointDetector,
  defineModel,
  eventTime,
  ewmaDetector,
  pushBounded,
  Severity,
  tumblingWindows,
  type ChangePointState,
  type EwmaState,
  type ReferenceRow,
  type TwinContext,
} from '@hextwin/shared';
import { latSchema, lngSchema, nullable, timestampSchema } from './schema.js';

export const TURBINE_MODELS = ['A', 'B', 'C'] as const;
export type TurbineModel = (typeof TURBINE_MODELS)[number];

const DAY = 86_400_000;
const HOUR = 3_600_000;
/** How long before `nextMaintenance` the pre-maintenance period starts, per turbine model. */
export const PRE_MAINTENANCE_MS: Record<TurbineModel, number> = { A: 90 * DAY, B: 120 * DAY, C: 150 * DAY };
export const MAX_TEMP_C = 100;
export const MIN_RPM = 60;
export const CONDITION_LIMIT_MS = 20_000;
export const PRE_MAINTENANCE_LIMIT_MS = 10_000;
export const REPEAT_MS = 30_000;
export const MAX_READINGS = 2_000;
export const MAX_TURBINE_INCIDENTS = 50;
export const HOURLY_WINDOWS = 24;

export const TurbineCondition = { HighTemperature: 'HighTemperature', LowRPM: 'LowRPM' } as const;
export type TurbineCondition = (typeof TurbineCondition)[keyof typeof TurbineCondition];

export type WindTurbineMessage =
  | { type: 'init'; turbineModel: TurbineModel; nextMaintenance: string; lat?: number; lng?: number }
  | { type?: undefined; temp: number; rpm: number; lat?: number; lng?: number; timestamp: number | string };

/** A condition in progress. */
export interface ConditionTracker {
  /** event time of onset */
  since: number;
  /** messages seen in the condition */
  warnings: number;
  /** event time of the last command and alert; null before the first */
  lastNotifiedAt: number | null;
}

export interface TurbineIncident {
  type: TurbineCondition;
  status: 'Started' | 'Resolved';
  startTime: number;
  endTime: number | null;
  /** messages seen in the condition, filled in when it is resolved */
  warnings: number;
}

export interface Reading {
  time: number;
  temp: number;
  rpm: number;
}

/** One tumbling one-hour window: [start, start + 1 h). */
export interface HourlyAverage {
  start: number;
  count: number;
  avgTemp: number;
  avgRpm: number;
}

export interface WindTurbineState {
  turbineModel: TurbineModel | null;
  /** ISO date */
  nextMaintenance: string | null;
  /** where the parameters came from: an init message wins over reference data */
  paramsSource: 'init' | 'reference' | null;
  lat: number | null;
  lng: number | null;
  temp: number | null;
  rpm: number | null;
  lastTime: number | null;
  inPreMaintenance: boolean;
  highTemperature: ConditionTracker | null;
  lowRpm: ConditionTracker | null;
  /** most recent incidents, oldest first */
  incidents: TurbineIncident[];
  /** last 2,000 readings, oldest first */
  readings: Reading[];
  /** hourly averages of the last 24 hours, oldest first */
  hourly: HourlyAverage[];
  /** detector state (plain JSON, checkpointed with the twin) */
  detectors: TurbineDetectorsState;
  /** the latest reading was a temperature anomaly */
  tempAnomaly: boolean;
  /** the latest anomaly either detector found; null before the first */
  lastAnomaly: TurbineAnomaly | null;
  /** anomalies found so far */
  anomalyCount: number;
}

export interface TurbineDetectorsState {
  tempZ: EwmaState;
  rpmShift: ChangePointState;
}

export interface TurbineAnomaly {
  kind: 'temperature' | 'rpm-shift-up' | 'rpm-shift-down';
  /** event time of the reading */
  at: number;
  value: number;
  score: number;
}

/** Temperature against its weighted mean and spread (noise taken as at least 0.5 °C). */
export const turbineTempZ = ewmaDetector({ alpha: 0.05, threshold: 5, warmup: 20, minSigma: 0.5 });
/** A lasting shift of the rotor speed against a baseline of 50 readings (noise taken as at least 1 rpm). */
export const turbineRpmShifts = changePointDetector({ warmup: 50, minSigma: 1 });

export const TEMP_ANOMALY_TITLE = 'Turbine temperature anomaly';
export const RPM_SHIFT_TITLE = 'Rotor speed level shifted';

function isTurbineModel(v: unknown): v is TurbineModel {
  return typeof v === 'string' && (TURBINE_MODELS as readonly string[]).includes(v);
}

/** Take the parameters from the reference row, unless an init message has set them. */
function applyReference(state: WindTurbineState, row: ReferenceRow | undefined): void {
  if (state.paramsSource === 'init' || !row) return;
  const model = row['turbineModel'];
  const next = row['nextMaintenance'];
  if (isTurbineModel(model) && typeof next === 'string' && eventTime(next) !== undefined) {
    state.turbineModel = model;
    state.nextMaintenance = next;
    state.paramsSource = 'reference';
  }
}

/**
 * Inside the pre-maintenance period: from `nextMaintenance` minus the model's period on. A turbine
 * past its maintenance date (overdue) stays in it: it is at least as worn.
 */
export function inPreMaintenance(state: WindTurbineState, t: number): boolean {
  if (!state.turbineModel || !state.nextMaintenance) return false;
  const next = eventTime(state.nextMaintenance);
  return next !== undefined && t >= next - PRE_MAINTENANCE_MS[state.turbineModel];
}

/** Track one condition for one reading; returns the tracker to keep (null when not in the condition). */
function track(
  ctx: TwinContext,
  state: WindTurbineState,
  type: TurbineCondition,
  tracker: ConditionTracker | null,
  active: boolean,
  t: number,
): ConditionTracker | null {
  if (!active) {
    if (tracker) {
      const open = [...state.incidents].reverse().find((i) => i.type === type && i.status === 'Started');
      if (open) Object.assign(open, { status: 'Resolved', endTime: t, warnings: tracker.warnings });
    }
    return null;
  }
  if (!tracker) {
    tracker = { since: t, warnings: 0, lastNotifiedAt: null };
    pushBounded(state.incidents, { type, status: 'Started', startTime: t, endTime: null, warnings: 0 }, MAX_TURBINE_INCIDENTS);
  }
  tracker.warnings += 1;
  const durationMs = t - tracker.since;
  const limit = state.inPreMaintenance ? PRE_MAINTENANCE_LIMIT_MS : CONDITION_LIMIT_MS;
  const due = tracker.lastNotifiedAt === null || t - tracker.lastNotifiedAt >= REPEAT_MS;
  if (durationMs > limit && due) {
    tracker.lastNotifiedAt = t;
    const report = { type, durationMs, inPreMaintenance: state.inPreMaintenance, warnings: tracker.warnings };
    ctx.sendToSource(report);
    ctx.alert({
      severity: Severity.ERROR,
      title: type === TurbineCondition.HighTemperature ? 'Turbine over temperature' : 'Turbine rotor too slow',
      message: `${type} for ${Math.round(durationMs / 1000)} s${state.inPreMaintenance ? ' (pre-maintenance period)' : ''}`,
      data: report,
    });
  }
  return tracker;
}

/** Fold new readings into the hourly tumbling windows and keep the 24 most recent hours. */
function updateHourly(state: WindTurbineState, batch: Reading[]): void {
  for (const w of tumblingWindows(batch, { sizeMs: HOUR, time: (r) => r.time })) {
    let bucket = state.hourly.find((h) => h.start === w.start);
    if (!bucket) {
      bucket = { start: w.start, count: 0, avgTemp: 0, avgRpm: 0 };
      state.hourly.push(bucket);
    }
    const n = bucket.count + w.events.length;
    bucket.avgTemp = (bucket.avgTemp * bucket.count + w.events.reduce((a, r) => a + r.temp, 0)) / n;
    bucket.avgRpm = (bucket.avgRpm * bucket.count + w.events.reduce((a, r) => a + r.rpm, 0)) / n;
    bucket.count = n;
  }
  state.hourly.sort((a, b) => a.start - b.start);
  const newest = state.hourly.at(-1);
  if (newest) state.hourly = state.hourly.filter((h) => h.start > newest.start - HOURLY_WINDOWS * HOUR);
}

function initDetectors(): TurbineDetectorsState {
  return { tempZ: turbineTempZ.init(), rpmShift: turbineRpmShifts.init() };
}

/** Feed one reading to the detectors that cover it; an anomaly is recorded and alerted, apart from the condition rules. */
function detect(ctx: TwinContext, state: WindTurbineState, r: Reading): void {
  if (r.temp <= MAX_TEMP_C) detectTemp(ctx, state, r);
  if (r.rpm >= MIN_RPM) detectRpm(ctx, state, r);
}

function detectTemp(ctx: TwinContext, state: WindTurbineState, r: Reading): void {
  const temp = turbineTempZ.update(state.detectors.tempZ, r.temp);
  if (temp.anomaly) {
    state.lastAnomaly = { kind: 'temperature', at: r.time, value: r.temp, score: temp.score };
    state.anomalyCount += 1;
    // once per anomalous stretch: a run of unusual readings is one event for the operator
    if (!state.tempAnomaly) {
      ctx.alert({
        severity: Severity.WARNING,
        title: TEMP_ANOMALY_TITLE,
        message: `${r.temp} °C is ${temp.z.toFixed(1)} standard deviations from its recent mean`,
        data: { temp: r.temp, z: temp.z, at: r.time },
      });
    }
  }
  state.tempAnomaly = temp.anomaly;
}

function detectRpm(ctx: TwinContext, state: WindTurbineState, r: Reading): void {
  const rpm = turbineRpmShifts.update(state.detectors.rpmShift, r.rpm);
  if (rpm.anomaly) {
    state.lastAnomaly = { kind: rpm.direction === 'up' ? 'rpm-shift-up' : 'rpm-shift-down', at: r.time, value: r.rpm, score: rpm.score };
    state.anomalyCount += 1;
    ctx.alert({
      severity: Severity.INFO,
      title: RPM_SHIFT_TITLE,
      message: `rotor speed shifted ${rpm.direction} from a baseline of ${rpm.baseline?.toFixed(1)} rpm`,
      data: { rpm: r.rpm, baseline: rpm.baseline, direction: rpm.direction, at: r.time },
    });
  }
}

export const windTurbine = defineModel<WindTurbineState, WindTurbineMessage>({
  name: 'wind-turbine',
  description: 'Wind turbine: over-temperature and low-speed incidents, stricter before maintenance; hourly averages.',
  reference: { file: fileURLToPath(new URL('./data/turbines.csv', import.meta.url)), idField: 'id' },
  init(_id, ctx) {
    const state: WindTurbineState = {
      turbineModel: null,
      nextMaintenance: null,
      paramsSource: null,
      lat: null,
      lng: null,
      temp: null,
      rpm: null,
      lastTime: null,
      inPreMaintenance: false,
      highTemperature: null,
      lowRpm: null,
      incidents: [],
      readings: [],
      hourly: [],
      detectors: initDetectors(),
      tempAnomaly: false,
      lastAnomaly: null,
      anomalyCount: 0,
    };
    applyReference(state, ctx.reference);
    return state;
  },
  process(ctx, state, messages) {
    applyReference(state, ctx.reference); // reference data may have been reloaded
    // twins checkpointed before the detectors were added start them now
    state.detectors ??= initDetectors();
    state.tempAnomaly ??= false;
    state.lastAnomaly ??= null;
    state.anomalyCount ??= 0;
    const batch: Reading[] = [];
    for (const m of messages) {
      if (m.lat !== undefined && m.lng !== undefined) {
        state.lat = m.lat;
        state.lng = m.lng;
      }
      if (m.type === 'init') {
        state.turbineModel = m.turbineModel;
        state.nextMaintenance = m.nextMaintenance;
        state.paramsSource = 'init';
        continue;
      }
      const t = eventTime(m.timestamp) ?? ctx.now();
      state.temp = m.temp;
      state.rpm = m.rpm;
      state.lastTime = t;
      state.inPreMaintenance = inPreMaintenance(state, t);
      // the two conditions are tracked independently: each has its own onset, repeat and recovery
      state.highTemperature = track(ctx, state, TurbineCondition.HighTemperature, state.highTemperature, m.temp > MAX_TEMP_C, t);
      state.lowRpm = track(ctx, state, TurbineCondition.LowRPM, state.lowRpm, m.rpm < MIN_RPM, t);
      const reading = { time: t, temp: m.temp, rpm: m.rpm };
      pushBounded(state.readings, reading, MAX_READINGS);
      batch.push(reading);
      detect(ctx, state, reading);
    }
    // averages are kept incrementally: 2,000 readings may cover much less than 24 hours
    updateHourly(state, batch);
    return 'update';
  },
  location: (s) => (s.lat !== null && s.lng !== null ? { lat: s.lat, lng: s.lng } : undefined),
  // a condition being tracked (high temperature, low rpm) is a warning until it clears
  level: (s) => (s.highTemperature || s.lowRpm ? Severity.WARNING : undefined),
  messageSchema: {
    type: 'object',
    // the fields first, then which are required: an init message, or else a reading
    allOf: [
      {
        properties: {
          type: { const: 'init' },
          turbineModel: { enum: [...TURBINE_MODELS] },
          nextMaintenance: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}' },
          temp: { type: 'number' },
          rpm: { type: 'number', minimum: 0 },
          lat: latSchema,
          lng: lngSchema,
          timestamp: timestampSchema,
        },
      },
      {
        if: { required: ['type'] },
        then: { required: ['turbineModel', 'nextMaintenance'] },
        else: { required: ['temp', 'rpm', 'timestamp'] },
      },
    ],
  },
  // the inspector's chart: temperature and speed once a minute, not the 2,000 readings
  history: {
    limit: 60,
    everyMs: 60_000,
    pick: (s) => ({ temp: s.temp, rpm: s.rpm, inPreMaintenance: s.inPreMaintenance, tempAnomaly: s.tempAnomaly }),
  },
  stateSchema: {
    type: 'object',
    properties: {
      turbineModel: { enum: [...TURBINE_MODELS, null] },
      nextMaintenance: nullable('string'),
      paramsSource: { enum: ['init', 'reference', null] },
      lat: nullable('number'),
      lng: nullable('number'),
      temp: nullable('number'),
      rpm: nullable('number'),
      lastTime: nullable('number'),
      inPreMaintenance: { type: 'boolean' },
      highTemperature: nullable('object'),
      lowRpm: nullable('object'),
      incidents: { type: 'array' },
      readings: { type: 'array' },
      hourly: {
        type: 'array',
        items: {
          type: 'object',
          properties: { start: { type: 'number' }, count: { type: 'integer' }, avgTemp: { type: 'number' }, avgRpm: { type: 'number' } },
        },
      },
      detectors: { type: 'object' },
      tempAnomaly: { type: 'boolean' },
      lastAnomaly: nullable('object'),
      anomalyCount: { type: 'integer' },
    },
  },
});
