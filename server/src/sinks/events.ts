/**
 * What sinks export: one JSON shape per event kind, each with `v` (the payload version) and
 * `eventId` (stable across retries and restarts, so a receiver can de-duplicate: delivery is
 * at-least-once). docs/SINKS.md documents the shapes; change them only by adding fields, or by a
 * new `v`.
 */
import type { JsonValue, Severity } from '@hextwin/shared';
import type { AlertRecord, TwinView } from '../engine/types.js';

export const SINK_EVENT_KINDS = ['twinChanged', 'alert', 'geofence'] as const;
export type SinkEventKind = (typeof SINK_EVENT_KINDS)[number];

export const PAYLOAD_VERSION = 1;

/** A twin's state after a change (the latest one of its delivery cycle: changes are conflated). */
export interface TwinChangedEvent {
  v: 1;
  kind: 'twinChanged';
  eventId: string;
  model: string;
  id: string;
  /** increases on every applied change; a receiver keeps the highest */
  version: number;
  state: JsonValue;
  lat: number | null;
  lng: number | null;
  /** ISO 8601 */
  updatedAt: string;
}

/** An alert raised by a model, as GraphQL's Alert shows it. */
export interface AlertEvent {
  v: 1;
  kind: 'alert';
  eventId: string;
  id: string;
  model: string;
  twinId: string;
  severity: Severity;
  title: string;
  message: string | null;
  /** ISO 8601 */
  at: string;
  data: JsonValue | null;
}

export type GeofenceEventType = 'ENTER' | 'EXIT' | 'DWELL';

/** What the geofence feature publishes on the sink topics (see hub.ts). */
export interface GeofenceInput {
  fence: string;
  model: string;
  twinId: string;
  type: GeofenceEventType;
  /** epoch ms, engine clock */
  at: number;
  lat: number | null;
  lng: number | null;
  /** for DWELL: ms inside the fence so far */
  dwellMs?: number;
}

/** A twin entered, left or dwelt in a geofence. */
export interface GeofenceEvent {
  v: 1;
  kind: 'geofence';
  eventId: string;
  fence: string;
  model: string;
  twinId: string;
  type: GeofenceEventType;
  /** ISO 8601 */
  at: string;
  lat: number | null;
  lng: number | null;
  dwellMs: number | null;
}

export type SinkEvent = TwinChangedEvent | AlertEvent | GeofenceEvent;

export function twinChangedEvent(t: TwinView): TwinChangedEvent {
  return {
    v: 1,
    kind: 'twinChanged',
    eventId: `twin:${t.model}/${t.id}@${t.version}`,
    model: t.model,
    id: t.id,
    version: t.version,
    state: t.state as JsonValue,
    lat: t.lat ?? null,
    lng: t.lng ?? null,
    updatedAt: new Date(t.updatedAt).toISOString(),
  };
}

export function alertEvent(a: AlertRecord): AlertEvent {
  return {
    v: 1,
    kind: 'alert',
    eventId: `alert:${a.id}`,
    id: a.id,
    model: a.model,
    twinId: a.twinId,
    severity: a.severity,
    title: a.title,
    message: a.message,
    at: new Date(a.at).toISOString(),
    data: a.data,
  };
}

export function geofenceEvent(g: GeofenceInput): GeofenceEvent {
  return {
    v: 1,
    kind: 'geofence',
    eventId: `geofence:${g.fence}/${g.model}/${g.twinId}/${g.type}@${g.at}`,
    fence: g.fence,
    model: g.model,
    twinId: g.twinId,
    type: g.type,
    at: new Date(g.at).toISOString(),
    lat: g.lat,
    lng: g.lng,
    dwellMs: g.dwellMs ?? null,
  };
}

/** The model an event belongs to (every kind has one). */
export const eventModel = (e: SinkEvent): string => e.model;
/** The twin an event is about. */
export const eventTwin = (e: SinkEvent): string => (e.kind === 'twinChanged' ? e.id : e.twinId);
/** When the event happened, ISO 8601. */
export const eventAt = (e: SinkEvent): string => (e.kind === 'twinChanged' ? e.updatedAt : e.at);
