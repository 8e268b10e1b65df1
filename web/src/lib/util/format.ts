/** Formatting of values, numbers and times for people. */
import type { JSONObject, JSONValue } from '../graphql/types.ts';

/** fields that say most about a twin at a glance, shown first when present */
const PRIORITY = [
  'condition',
  'status',
  'alertLevel',
  'ppm',
  'alarmSounded',
  'limitExceeded',
  'temp',
  'rpm',
  'speedKph',
  'region',
  'nodeType',
  'site',
  'department',
];
/** fields a tooltip need not repeat */
const SKIP = new Set(['lat', 'lng', 'incidents']);

export function keyFields(state: JSONObject, n: number): [string, JSONValue][] {
  const entries = Object.entries(state).filter(([k, v]) => !SKIP.has(k) && (v === null || typeof v !== 'object'));
  const rank = (k: string): number => {
    const i = PRIORITY.indexOf(k);
    return i === -1 ? PRIORITY.length : i;
  };
  return entries.sort(([a], [b]) => rank(a) - rank(b)).slice(0, n);
}

// fewer decimals the larger the number: 0.42, 3.7, 3,999 — digits people read at a glance
const numberFormats = [0, 1, 2].map((digits) => new Intl.NumberFormat(undefined, { maximumFractionDigits: digits }));
const compactFormat = new Intl.NumberFormat(undefined, { notation: 'compact', maximumFractionDigits: 1 });

export function formatNumber(n: number | null | undefined, compact = false): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  const a = Math.abs(n);
  if (compact && a >= 10_000) return compactFormat.format(n);
  return numberFormats[a >= 100 ? 0 : a >= 10 ? 1 : 2]!.format(n);
}

export function formatValue(v: JSONValue | undefined): string {
  if (v === undefined || v === null) return '—';
  if (typeof v === 'number') {
    // epoch-millisecond timestamps read better as times
    if (v > 1e12 && v < 1e13) return formatTime(new Date(v).toISOString());
    return formatNumber(v);
  }
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  return JSON.stringify(v);
}

// one formatter each: toLocaleTimeString builds a new one per call, which shows in profiles
const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'short', timeStyle: 'medium', hour12: false });

/** A time of day for today, a date and time otherwise. */
export function formatTime(iso: string | number | null | undefined): string {
  if (iso === null || iso === undefined || iso === '') return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const now = new Date();
  const sameDay = d.getFullYear() === now.getFullYear() && d.getMonth() === now.getMonth() && d.getDate() === now.getDate();
  return sameDay ? timeFormat.format(d) : dateTimeFormat.format(d);
}

/** hh:mm:ss, for chart axes */
export function formatClock(ms: number): string {
  return timeFormat.format(ms);
}

/** "12 s ago", "3 min ago", … */
export function formatAgo(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '—';
  const s = Math.max(0, Math.round((now - new Date(iso).getTime()) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

export function formatDuration(seconds: number): string {
  const s = Math.floor(seconds);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d) return `${d} d ${h} h`;
  if (h) return `${h} h ${m} min`;
  if (m) return `${m} min ${s % 60} s`;
  return `${s} s`;
}
