/**
 * CSV export of query results: one row per twin, one column per state path seen (RFC 4180 quoting).
 * Twin ids, state keys and string values come from devices, so a cell a spreadsheet would run as a
 * formula is neutralised (OWASP "CSV injection").
 */
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

/** The first characters that make Excel, LibreOffice and Google Sheets read a cell as a formula. */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One text cell as a spreadsheet will read it: a leading formula character gets a `'` in front
 * (the spreadsheet shows the text, it runs nothing), then RFC 4180 quoting.
 */
export function csvCell(text: string): string {
  const s = FORMULA_START.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function cell(v: JSONValue | undefined): string {
  if (v === undefined || v === null) return '';
  // a JSON number prints as a plain number (a leading '-' is a sign, never a formula): kept as is
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  return csvCell(typeof v === 'object' ? JSON.stringify(v) : String(v));
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
