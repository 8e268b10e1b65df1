/**
 * StatusTracker: devices that report a status and a reading every minute, an attacker that makes
 * some of them go silent or report bad values, and the real-time twin that detects both.
 *
 * - `status-device` (simulation, 100 instances): `{ status: 'ok', value, timestamp }` every
 *   simulated minute, value around 50. An attack message from the attacker changes that for a while:
 *   `silence` (no reports), or `tamper` (status 'ok' but values far out of range).
 * - `status-attacker` (simulation, one instance): every 15 simulated minutes attacks 5 devices it
 *   picks at random, for 10 minutes each, half of them silenced and half tampered with.
 * - `status-tracker` (real time, one twin per device): a device silent for 3 report periods is
 *   `silent` (WARNING alert); a value outside 0–100 is `tampered` (ERROR alert); a good report
 *   makes it `ok` again.
 */
import { defineModel, Severity, type JsonValue } from '@hextwin/shared';
import { Random } from '@hextwin/server/simulator/random';

export const REPORT_MS = 60_000;
const DEVICES = 100;
const SILENT_AFTER_MS = 3 * REPORT_MS;

type Attack = { attack: 'silence' | 'tamper'; untilMs: number };

interface DeviceState {
  attack: Attack | null;
  rng: Random;
}

export const statusDevice = defineModel<DeviceState, Attack>({
  name: 'status-device',
  description: 'simulated devices reporting status to status-tracker twins',
  init: (id) => ({ attack: null, rng: Random.derive(1, `status-device/${id}`) }),
  process(_ctx, s, attacks) {
    s.attack = attacks[attacks.length - 1] ?? s.attack;
    return 'update';
  },
  simulate(ctx, s, now) {
    if (s.attack && s.attack.untilMs <= now) s.attack = null;
    if (s.attack?.attack === 'silence') return;
    const value = s.attack?.attack === 'tamper' ? 500 + s.rng.range(0, 500) : s.rng.gaussian(50, 8);
    ctx.emit({ status: 'ok', value: Math.round(value * 10) / 10, timestamp: now });
  },
  simulation: { instances: DEVICES, idPrefix: 'device', target: 'status-tracker', stepMs: REPORT_MS },
});

export const statusAttacker = defineModel<{ rng: Random; waves: number }>({
  name: 'status-attacker',
  description: 'attacks a few status-device instances every 15 minutes',
  init: () => ({ rng: Random.derive(1, 'status-attacker'), waves: 0 }),
  process: () => 'none',
  simulate(ctx, s, now) {
    // the first wave comes after 15 minutes of normal traffic
    if (s.waves++ > 0) {
      for (const i of s.rng.sample(DEVICES, 5)) {
        const attack: Attack = { attack: i % 2 === 0 ? 'silence' : 'tamper', untilMs: now + 10 * 60_000 };
        ctx.emit(attack, { model: 'status-device', id: `device-${String(i + 1).padStart(4, '0')}` });
      }
      ctx.log('info', `attack wave ${s.waves - 1}`);
    }
    ctx.delay(15 * 60_000);
  },
  simulation: { instances: 1, idPrefix: 'attacker' },
});

type TrackerMessage = { status: string; value: number; timestamp?: number };
export type TrackerCondition = 'ok' | 'silent' | 'tampered';

interface TrackerState {
  condition: TrackerCondition;
  value: number | null;
  lastSeen: number | null;
  incidents: number;
}

export const statusTracker = defineModel<TrackerState, TrackerMessage>({
  name: 'status-tracker',
  description: 'detects silent devices and out-of-range values',
  init: () => ({ condition: 'ok', value: null, lastSeen: null, incidents: 0 }),
  process(ctx, s, messages) {
    for (const m of messages) {
      s.lastSeen = typeof m.timestamp === 'number' ? m.timestamp : ctx.now();
      s.value = m.value;
      const bad = !(m.value >= 0 && m.value <= 100) || m.status !== 'ok';
      if (bad && s.condition !== 'tampered') {
        s.incidents++;
        ctx.alert({ severity: Severity.ERROR, title: 'Bad value reported', message: `${ctx.id} reported ${m.value}`, data: { value: m.value } as JsonValue });
      }
      s.condition = bad ? 'tampered' : 'ok';
    }
    ctx.startTimer('silence', SILENT_AFTER_MS, 'once');
    return 'update';
  },
  onTimer(ctx, s) {
    if (s.condition === 'silent') return 'none';
    s.condition = 'silent';
    s.incidents++;
    ctx.alert({ severity: Severity.WARNING, title: 'Device silent', message: `${ctx.id} has not reported for ${SILENT_AFTER_MS / 60_000} minutes` });
    return 'update';
  },
  level: (s) => (s.condition === 'tampered' ? Severity.ERROR : s.condition === 'silent' ? Severity.WARNING : undefined),
});
