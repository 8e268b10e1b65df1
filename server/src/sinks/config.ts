/**
 * The SINKS_FILE: a JSON list of sinks, each
 *
 *   { "type": "nats" | "ndjson" | "webhook" | "postgres", "name"?: "...",
 *     "events"?: ["twinChanged", "alert", "geofence"], "models"?: ["truck"], "minSeverity"?: "ERROR",
 *     "batchSize"?: 500, "maxQueue"?: 1000000, "retryBaseMs"?: 500, "retryMaxMs"?: 30000, ...settings }
 *
 * with the settings of its type (docs/SINKS.md). Errors are CONFIG_INVALID naming the entry and field.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { HextwinError, Severity } from '@hextwin/shared';
import { SINK_EVENT_KINDS, type SinkEventKind } from './events.js';

interface Common {
  name: string;
  events: SinkEventKind[];
  models: string[] | null;
  minSeverity: Severity;
  /** events handed to the sink at once at most */
  batchSize: number;
  /** events kept for the sink at most; past this the oldest are dropped (and counted) */
  maxQueue: number;
  retryBaseMs: number;
  retryMaxMs: number;
  timeoutMs: number;
}

export interface NatsSinkConfig extends Common {
  type: 'nats';
  url: string;
  /** subject prefix: events go to `{subject}.{kind}.{model}` */
  subject: string;
}
export interface NdjsonSinkConfig extends Common {
  type: 'ndjson';
  dir: string;
  /** file name stem: `{file}.ndjson`, rotated to `{file}-{time}.ndjson` */
  file: string;
  maxBytes: number;
  maxAgeMs: number;
  /** rotated files kept (0: all) */
  keepFiles: number;
}
export interface WebhookSinkConfig extends Common {
  type: 'webhook';
  url: string;
  headers: Record<string, string>;
  /** HMAC-SHA256 key for `x-hextwin-signature` (none: unsigned) */
  secret: string | null;
}
export interface PostgresSinkConfig extends Common {
  type: 'postgres';
  url: string;
  table: string;
}

export type SinkConfig = NatsSinkConfig | NdjsonSinkConfig | WebhookSinkConfig | PostgresSinkConfig;

const SINK_TYPES = ['nats', 'ndjson', 'webhook', 'postgres'] as const;

export function loadSinks(file: string): SinkConfig[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new HextwinError('CONFIG_INVALID', `SINKS_FILE ${file}: ${(e as Error).message}`);
  }
  if (!Array.isArray(parsed)) throw new HextwinError('CONFIG_INVALID', `SINKS_FILE ${file}: expected a JSON array of sinks`);
  const names = new Set<string>();
  return parsed.map((raw: unknown, i) => {
    const s = parseSink(raw, `SINKS_FILE ${file}: [${i}]`, i, path.dirname(file));
    if (names.has(s.name)) throw new HextwinError('CONFIG_INVALID', `SINKS_FILE ${file}: [${i}].name ${JSON.stringify(s.name)} is used twice`);
    names.add(s.name);
    return s;
  });
}

function parseSink(raw: unknown, where: string, i: number, baseDir: string): SinkConfig {
  const bad = (field: string, want: string) => new HextwinError('CONFIG_INVALID', `${where}.${field} must be ${want}`);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new HextwinError('CONFIG_INVALID', `${where} must be an object`);
  const e = raw as Record<string, unknown>;
  const type = e.type as SinkConfig['type'];
  if (!SINK_TYPES.includes(type)) throw bad('type', `one of ${SINK_TYPES.join(', ')}`);
  const str = (field: string, def?: string): string => {
    const v = e[field] ?? def;
    if (typeof v !== 'string' || v === '') throw bad(field, 'a non-empty string');
    return v;
  };
  const int = (field: string, def: number, min: number, max: number): number => {
    const v = e[field] ?? def;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw bad(field, `a whole number from ${min} to ${max}`);
    return v;
  };
  const url = (field: string, protocols: string[]): string => {
    const v = str(field);
    let u: URL;
    try {
      u = new URL(v);
    } catch {
      throw bad(field, `a URL (${protocols.join(' ')})`);
    }
    if (!protocols.includes(u.protocol)) throw bad(field, `a URL (${protocols.join(' ')})`);
    return v;
  };
  const name = str('name', `${type}-${i}`);
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(name)) throw bad('name', 'letters, digits, _ or - (at most 64)');
  if (e.events !== undefined && !(Array.isArray(e.events) && e.events.length > 0 && e.events.every((k) => SINK_EVENT_KINDS.includes(k))))
    throw bad('events', `a non-empty list of ${SINK_EVENT_KINDS.join(', ')}`);
  if (e.models !== undefined && !(Array.isArray(e.models) && e.models.every((m) => typeof m === 'string'))) throw bad('models', 'a list of model names');
  if (e.minSeverity !== undefined && !(typeof e.minSeverity === 'string' && e.minSeverity in Severity))
    throw bad('minSeverity', `one of ${Object.keys(Severity).join(', ')}`);
  const common: Common = {
    name,
    events: (e.events as SinkEventKind[] | undefined) ?? [...SINK_EVENT_KINDS],
    models: (e.models as string[] | undefined) ?? null,
    minSeverity: (e.minSeverity as Severity | undefined) ?? 'INFO',
    batchSize: int('batchSize', 500, 1, 100_000),
    maxQueue: int('maxQueue', 1_000_000, 1, 1_000_000_000),
    retryBaseMs: int('retryBaseMs', 500, 1, 3_600_000),
    retryMaxMs: int('retryMaxMs', 30_000, 1, 3_600_000),
    timeoutMs: int('timeoutMs', 10_000, 100, 600_000),
  };
  switch (type) {
    case 'nats':
      return { ...common, type, url: url('url', ['nats:', 'tls:', 'ws:', 'wss:']), subject: subjectPrefix(str('subject', 'hextwin.events'), bad) };
    case 'ndjson':
      return {
        ...common,
        type,
        dir: path.resolve(baseDir, str('dir')),
        file: fileStem(str('file', 'events'), bad),
        maxBytes: int('maxBytes', 64 * 1024 * 1024, 1024, 1024 ** 4),
        maxAgeMs: int('maxAgeMs', 3_600_000, 1_000, 365 * 86_400_000),
        keepFiles: int('keepFiles', 0, 0, 1_000_000),
      };
    case 'webhook': {
      if (e.headers !== undefined && !(typeof e.headers === 'object' && e.headers !== null && Object.values(e.headers).every((v) => typeof v === 'string')))
        throw bad('headers', 'an object of strings');
      return {
        ...common,
        type,
        url: url('url', ['http:', 'https:']),
        headers: (e.headers as Record<string, string> | undefined) ?? {},
        secret: e.secret === undefined ? null : str('secret'),
      };
    }
    case 'postgres': {
      const table = str('table', 'hextwin_events');
      if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62})?$/.test(table)) throw bad('table', 'a table name, optionally schema.table');
      return { ...common, type, url: url('url', ['postgres:', 'postgresql:']), table };
    }
  }
}

function subjectPrefix(s: string, bad: (f: string, w: string) => Error): string {
  if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(s)) throw bad('subject', 'dot-separated tokens of letters, digits, _ or -');
  return s;
}

function fileStem(s: string, bad: (f: string, w: string) => Error): string {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(s)) throw bad('file', 'letters, digits, _ or - (a name without extension)');
  return s;
}
