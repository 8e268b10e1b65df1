/**
 * The floors' fixture: N plain 8-field twins in a Map keyed by id, and telemetry messages for them
 * as 107-byte JSON documents addressed to random twins (random, so lookups miss the cache as they
 * do in a real engine).
 */
import { continentalUsCities } from '../../src/simulator/cities.js';
import { offsetKm } from '../../src/simulator/geo.js';
import { Random } from '../../src/simulator/random.js';

/** twins stand around this many real US cities (about as many H3 res-5 cells as they cover) */
const PLACES = 1_100;

export interface PlainTwin {
  id: string;
  model: string;
  lat: number;
  lng: number;
  temp: number;
  rpm: number;
  alertLevel: number;
  updatedAt: number;
}

export interface TelemetryMessage {
  model: string;
  id: string;
  temp: number;
  rpm: number;
  alertLevel: number;
  timestamp: number;
}

/** 'tw0000042': fixed width, so every message has the same length. */
export function twinId(i: number): string {
  return 'tw' + String(i).padStart(7, '0');
}

/** N twins placed around the largest US cities, within a few km of each. */
export function buildTwins(n: number, seed = 1): Map<string, PlainTwin> {
  const r = new Random(`bench-twins/${seed}`);
  const places = continentalUsCities().slice(0, PLACES);
  const twins = new Map<string, PlainTwin>();
  for (let i = 0; i < n; i++) {
    const id = twinId(i);
    const p = offsetKm(places[i % places.length]!, r.gaussian(0, 2), r.gaussian(0, 2));
    twins.set(id, { id, model: 'wind-turbine', lat: p.lat, lng: p.lng, temp: r.range(50, 100), rpm: r.range(60, 100), alertLevel: r.int(10), updatedAt: 0 });
  }
  return twins;
}

/** A telemetry message for a random twin among `n`, as an object (JSON of it is 107 bytes). */
export function message(r: Random, n: number, t: number): TelemetryMessage {
  return {
    model: 'wind-turbine',
    id: twinId(r.int(n)),
    // fixed-width values keep the document at exactly 107 bytes
    temp: Number((50 + r.next() * 49.99).toFixed(2)),
    rpm: Number((60 + r.next() * 39.99).toFixed(2)),
    alertLevel: r.int(10),
    timestamp: t,
  };
}

/** `count` 107-byte JSON documents of one message each. */
export function messageDocs(count: number, n: number, seed = 2): string[] {
  const r = new Random(`bench-messages/${seed}`);
  const out: string[] = [];
  for (let k = 0; k < count; k++) out.push(messageText(message(r, n, 1_735_689_600_000 + k)));
  return out;
}

/** The message as JSON with values printed at fixed width (JSON.stringify drops trailing zeros). */
export function messageText(m: TelemetryMessage): string {
  return `{"model":"${m.model}","id":"${m.id}","temp":${m.temp.toFixed(2)},"rpm":${m.rpm.toFixed(2)},"alertLevel":${m.alertLevel},"timestamp":${m.timestamp}}`;
}

/** `count` batches of `size` message objects. */
export function messageBatches(count: number, size: number, n: number, seed = 3): TelemetryMessage[][] {
  const r = new Random(`bench-batches/${seed}`);
  const out: TelemetryMessage[][] = [];
  for (let b = 0; b < count; b++) out.push(Array.from({ length: size }, (_, k) => message(r, n, 1_735_689_600_000 + b * size + k)));
  return out;
}

/** What the engine does per message at the very least: find the twin, update three fields. */
export function apply(twins: Map<string, PlainTwin>, m: TelemetryMessage): void {
  const t = twins.get(m.id);
  if (!t) return;
  t.temp = m.temp;
  t.rpm = m.rpm;
  t.updatedAt = m.timestamp;
}
