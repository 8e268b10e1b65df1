/** CSV export of query results: one row per twin, one column per state path seen (RFC 4180 quoting). */
import type { JSONValue, TwinSummary } from '../graphql/types.ts';

/** Flattens nested objects into dotted paths; arrays stay whole, as JSON. */
export function flatten(value: JSONValue, prefix = '', out: Record<string, JSONValue> = {}): Record<string, JSONValue> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix) {
    out[prefix] = value;
  }
  return out;
}

function cell(v: JSONValue | undefined): string {
  if (v === undefined || v === null) return '';
  const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function twinsToCsv(twins: readonly TwinSummary[]): string {
  const rows = twins.map((t) => flatten(t.state));
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))].sort();
  const head = ['model', 'id', 'lat', 'lng', 'updatedAt', ...columns.map((c) => `state.${c}`)];
  const lines = [head.map((h) => cell(h)).join(',')];
  twins.forEach((t, i) => {
    const r = rows[i] ?? {};
    lines.push([t.model, t.id, t.lat, t.lng, t.updatedAt, ...columns.map((c) => r[c])].map(cell).join(','));
  });
  return lines.join('\r\n') + '\r\n';
}
