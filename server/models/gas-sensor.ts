/**
 * `gas-sensor`: a methane sensor on a gas pipe. Readings above 50 ppm start an exceedance episode;
 * 200 ppm or more, or an exceedance lasting more than 15 minutes, sounds the alarm once per episode:
 * one shutdown command to the device and one CRITICAL alert. A reading of 50 ppm or less re-arms it.
 */
import { defineModel, eventTime, Severity } from '@hextwin/shared';
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
}

export const GAS_LIMIT_PPM = 50;
export const GAS_ALARM_PPM = 200;
export const GAS_MAX_EXCEEDANCE_MS = 15 * 60_000;

export const SHUTDOWN_COMMAND = { command: 'shutdown', description: 'Shutdown the incoming gas pipe', code: 100 } as const;

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
  }),
  process(ctx, state, messages) {
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
        state.limitExceeded = false;
        state.limitStartTime = null;
        state.alarmSounded = false;
      }
    }
    return 'update';
  },
  location: (s) => (s.lat !== undefined && s.lng !== undefined ? { lat: s.lat, lng: s.lng } : undefined),
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
    },
  },
});
