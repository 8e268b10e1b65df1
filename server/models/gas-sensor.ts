/**
 * `gas-sensor`: a methane sensor on a gas pipe. Readings above 50 ppm start an exceedance episode;
 * 200 ppm or more, or an exceedance lasting more than 15 minutes, sounds the alarm once per episode:
 * one shutdown command to the device and one CRITICAL alarm (type `gas-leak`). A reading of 50 ppm or
 * less re-arms it and clears the alarm.
 *
 * On top of that specified behaviour, two streaming detectors watch the readings the alarm rules do
 * not cover, those of 50 ppm or less (their state is in `detectors`): an isolated reading far from
 * the recent median is a WARNING "Unusual gas reading", and a lasting shift of the level (up or
 * down) is an INFO "Gas level shifted", an early sign below the limit. Readings above the limit are
 * left out, so an exceedance is reported by the specified alarm alone, which stays as it is.
 */
import {
  changePointDetector,
  defineModel,
  eventTime,
  Severity,
  spikeDetector,
  type ChangePointState,
  type SpikeState,
  type TwinContext,
} from '@hextwin/shared';
import { latSchema, lngSchema, nullable, timestampSchema } from './schema.js';

export interface GasSensorMessage {
  ppm: number;
  /** epoch ms or ISO 8601 */
  timestamp: number | string;
  lat?: number;
  lng?: number;
  site?: string;
}

export interface GasSensorState {
  ppm: number | null;
  /** event time of the latest reading, epoch ms */
  lastTime: number | null;
  limitExceeded: boolean;
  /** event time the current exceedance began; null when not exceeded */
  limitStartTime: number | null;
  alarmSounded: boolean;
  /** exceedance episodes seen */
  numEvents: number;
  lat?: number;
  lng?: number;
  site?: string;
  /** detector state (plain JSON, checkpointed with the twin) */
  detectors: GasDetectorsState;
  /** the latest anomaly either detector found; null before the first */
  lastAnomaly: GasAnomaly | null;
  /** anomalies found so far */
  anomalyCount: number;
}

export interface GasDetectorsState {
  ppmSpike: SpikeState;
  ppmShift: ChangePointState;
}

export interface GasAnomaly {
  kind: 'spike' | 'shift-up' | 'shift-down';
  /** event time of the reading */
  at: number;
  ppm: number;
  score: number;
}

/** A reading this far from the median of the last 31 (in robust standard deviations, at least 1 ppm) is a spike. */
export const gasSpikes = spikeDetector({ window: 31, threshold: 8, minScale: 1 });
/** A lasting shift of the level against a baseline of 50 readings (noise taken as at least 1 ppm). */
export const gasShifts = changePointDetector({ warmup: 50, minSigma: 1 });

export const UNUSUAL_READING_TITLE = 'Unusual gas reading';
export const LEVEL_SHIFT_TITLE = 'Gas level shifted';

export const GAS_LIMIT_PPM = 50;
export const GAS_ALARM_PPM = 200;
export const GAS_MAX_EXCEEDANCE_MS = 15 * 60_000;

/** The alarm type of the shutdown alert: active from the alarm until a reading re-arms the sensor, which clears it. */
export const GAS_LEAK_ALARM = 'gas-leak';
export const SHUTDOWN_COMMAND = { command: 'shutdown', description: 'Shutdown the incoming gas pipe', code: 100 } as const;

function initDetectors(): GasDetectorsState {
  return { ppmSpike: gasSpikes.init(), ppmShift: gasShifts.init() };
}

/** Feed one reading to the detectors; an anomaly is recorded and alerted, apart from the alarm rules. */
function detect(ctx: TwinContext, state: GasSensorState, ppm: number, t: number): void {
  const spike = gasSpikes.update(state.detectors.ppmSpike, ppm);
  const shift = gasShifts.update(state.detectors.ppmShift, ppm);
  const site: { site?: string } = state.site ? { site: state.site } : {};
  if (spike.anomaly) {
    state.lastAnomaly = { kind: 'spike', at: t, ppm, score: spike.score };
    state.anomalyCount += 1;
    ctx.alert({
      severity: Severity.WARNING,
      title: UNUSUAL_READING_TITLE,
      message: `${ppm} ppm, against a recent median of ${spike.median} ppm`,
      data: { ppm, median: spike.median, score: spike.score, at: t, ...site },
    });
  }
  if (shift.anomaly) {
    state.lastAnomaly = { kind: shift.direction === 'up' ? 'shift-up' : 'shift-down', at: t, ppm, score: shift.score };
    state.anomalyCount += 1;
    ctx.alert({
      severity: Severity.INFO,
      title: LEVEL_SHIFT_TITLE,
      message: `the gas level shifted ${shift.direction} from a baseline of ${shift.baseline?.toFixed(1)} ppm`,
      data: { ppm, baseline: shift.baseline, direction: shift.direction, at: t, ...site },
    });
  }
}

export const gasSensor = defineModel<GasSensorState, GasSensorMessage>({
  name: 'gas-sensor',
  description: 'Gas pipe sensor: shuts the pipe on a high or lasting methane reading.',
  init: () => ({
    ppm: null,
    lastTime: null,
    limitExceeded: false,
    limitStartTime: null,
    alarmSounded: false,
    numEvents: 0,
    detectors: initDetectors(),
    lastAnomaly: null,
    anomalyCount: 0,
  }),
  process(ctx, state, messages) {
    // twins checkpointed before the detectors were added start them now
    state.detectors ??= initDetectors();
    state.anomalyCount ??= 0;
    state.lastAnomaly ??= null;
    for (const m of messages) {
      const t = eventTime(m.timestamp) ?? ctx.now();
      state.ppm = m.ppm;
      state.lastTime = t;
      if (m.lat !== undefined && m.lng !== undefined) {
        state.lat = m.lat;
        state.lng = m.lng;
      }
      if (m.site !== undefined) state.site = m.site;

      // 1. a new exceedance episode begins
      if (m.ppm > GAS_LIMIT_PPM && !state.limitExceeded) {
        state.limitExceeded = true;
        state.limitStartTime = t;
        state.numEvents += 1;
      }
      // 2. alarm: a very high reading, or an exceedance that has lasted too long; once per episode
      const lastedTooLong = state.limitExceeded && state.limitStartTime !== null && t - state.limitStartTime > GAS_MAX_EXCEEDANCE_MS;
      if ((m.ppm >= GAS_ALARM_PPM || lastedTooLong) && !state.alarmSounded) {
        state.alarmSounded = true;
        ctx.sendToSource({ ...SHUTDOWN_COMMAND });
        ctx.alert({
          type: GAS_LEAK_ALARM,
          severity: Severity.CRITICAL,
          title: 'Gas leak: pipe shut down',
          message:
            m.ppm >= GAS_ALARM_PPM
              ? `${m.ppm} ppm reached the ${GAS_ALARM_PPM} ppm alarm level`
              : `above ${GAS_LIMIT_PPM} ppm for more than 15 minutes (now ${m.ppm} ppm)`,
          data: { ppm: m.ppm, limitStartTime: state.limitStartTime, at: t, ...(state.site ? { site: state.site } : {}) },
        });
      }
      // 3. back to normal: the next exceedance is a new episode and may sound the alarm again
      if (m.ppm <= GAS_LIMIT_PPM) {
        if (state.alarmSounded) ctx.clearAlert(GAS_LEAK_ALARM);
        state.limitExceeded = false;
        state.limitStartTime = null;
        state.alarmSounded = false;
      }
      if (m.ppm <= GAS_LIMIT_PPM) detect(ctx, state, m.ppm, t);
    }
    return 'update';
  },
  location: (s) => (s.lat !== undefined && s.lng !== undefined ? { lat: s.lat, lng: s.lng } : undefined),
  // the inspector's chart: the reading and the episode flags, at most every 10 s
  history: { limit: 50, everyMs: 10_000, pick: (s) => ({ ppm: s.ppm, limitExceeded: s.limitExceeded, alarmSounded: s.alarmSounded }) },
  level: (s) => (s.alarmSounded ? Severity.CRITICAL : s.limitExceeded ? Severity.WARNING : undefined),
  messageSchema: {
    type: 'object',
    required: ['ppm', 'timestamp'],
    properties: {
      ppm: { type: 'number', minimum: 0 },
      timestamp: timestampSchema,
      lat: latSchema,
      lng: lngSchema,
      site: { type: 'string' },
    },
  },
  stateSchema: {
    type: 'object',
    properties: {
      ppm: nullable('number'),
      lastTime: nullable('number'),
      limitExceeded: { type: 'boolean' },
      limitStartTime: nullable('number'),
      alarmSounded: { type: 'boolean' },
      numEvents: { type: 'integer' },
      lat: { type: 'number' },
      lng: { type: 'number' },
      site: { type: 'string' },
      detectors: { type: 'object' },
      lastAnomaly: nullable('object'),
      anomalyCount: { type: 'integer' },
    },
  },
});
