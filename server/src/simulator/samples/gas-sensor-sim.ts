/**
 * Gas sensors as a simulation model: each reads a few ppm every 10 simulated seconds; a sensor
 * given `leakAt` (minutes after its start, in the instance's init or a createTwin) leaks from then
 * on, climbing past the gas-sensor twin's 200 ppm limit, until its twin sends `shutdown`: then the
 * pipe is closed, the readings fall back, and the sensor waits for the next message.
 */
import { defineModel, type JsonValue } from '@hextwin/shared';
import { Random } from '../random.js';

interface GasSensorSimState {
  lat: number;
  lng: number;
  site: string;
  ppm: number;
  /** minutes after the first step when a leak starts; -1: never */
  leakAt: number;
  startedAt: number | null;
  shut: boolean;
  rng: Random;
}

const SITES = [
  { site: 'Houston refinery', lat: 29.73, lng: -95.23 },
  { site: 'Chicago works', lat: 41.68, lng: -87.56 },
  { site: 'Newark terminal', lat: 40.7, lng: -74.14 },
];

export const gasSensorSim = defineModel<GasSensorSimState, JsonValue>({
  name: 'gas-sensor-sim',
  description: 'simulated gas sensors feeding gas-sensor twins; one of them leaks',
  init(id) {
    const n = Number(id.slice(id.lastIndexOf('-') + 1)) - 1;
    const where = SITES[n % SITES.length]!;
    return {
      ...where,
      lat: where.lat + n * 0.001,
      ppm: 5,
      leakAt: n === 0 ? 10 : -1,
      startedAt: null,
      shut: false,
      rng: Random.derive(1, `gas-sensor-sim/${id}`),
    };
  },
  process(_ctx, s, messages) {
    for (const m of messages) if (m && typeof m === 'object' && !Array.isArray(m) && m.command === 'shutdown') s.shut = true;
    return 'update';
  },
  simulate(ctx, s, now) {
    s.startedAt ??= now;
    const leaking = s.leakAt >= 0 && now - s.startedAt >= s.leakAt * 60_000 && !s.shut;
    s.ppm = leaking ? Math.min(900, s.ppm * 1.6 + 20) : Math.max(2, s.ppm * 0.5 + s.rng.range(1, 6));
    ctx.emit({ ppm: Math.round(s.ppm * 10) / 10, timestamp: now, lat: s.lat, lng: s.lng, site: s.site });
    // a closed pipe that reads normal again has nothing more to say until its twin writes to it
    if (s.shut && s.ppm < 20) ctx.delayIndefinitely();
  },
  simulation: { instances: 6, idPrefix: 'gas-sim', target: 'gas-sensor', stepMs: 10_000 },
});
