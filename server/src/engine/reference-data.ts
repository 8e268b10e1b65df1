/**
 * Reference data for a model (turbine types, truck drivers and routes, grid node types): a CSV or
 * JSON file keyed by twin id, loaded at start and reloaded when the file changes.
 */
import { readFileSync, watchFile, unwatchFile } from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import type { JsonValue, ReferenceDataSpec, ReferenceRow } from '@hextwin/shared';

function castCell(v: string): JsonValue {
  if (v === '') return null;
  if (v === 'true') return true;
  if (v === 'false') return false;
  if (/^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(v)) return Number(v);
  return v;
}

export function parseReference(text: string, format: 'csv' | 'json', idField: string, file: string): Map<string, ReferenceRow> {
  const rows = new Map<string, ReferenceRow>();
  if (format === 'csv') {
    const records = parse(text, { columns: true, skip_empty_lines: true, trim: true }) as Record<string, string>[];
    for (const r of records) {
      const id = r[idField];
      if (id === undefined || id === '') throw new Error(`${file}: a row has no "${idField}"`);
      const row: ReferenceRow = {};
      for (const [k, v] of Object.entries(r)) row[k] = k === idField ? v : castCell(v);
      rows.set(id, row);
    }
  } else {
    const data = JSON.parse(text) as unknown;
    const list: unknown[] = Array.isArray(data)
      ? data
      : Object.entries(data as Record<string, unknown>).map(([id, v]) => ({ [idField]: id, ...(v as object) }));
    for (const r of list) {
      if (typeof r !== 'object' || r === null) throw new Error(`${file}: every entry must be an object`);
      const id = (r as Record<string, unknown>)[idField];
      if (typeof id !== 'string' && typeof id !== 'number') throw new Error(`${file}: an entry has no "${idField}"`);
      rows.set(String(id), r as ReferenceRow);
    }
  }
  return rows;
}

export function loadReferenceFile(spec: ReferenceDataSpec, baseDir: string): { file: string; rows: Map<string, ReferenceRow> } {
  const file = path.resolve(baseDir, spec.file);
  const format = file.toLowerCase().endsWith('.csv') ? 'csv' : 'json';
  return { file, rows: parseReference(readFileSync(file, 'utf8'), format, spec.idField ?? 'id', file) };
}

/** Watch a reference file; `onChange` receives the new rows (or the error, keeping the old rows). */
export function watchReferenceFile(file: string, spec: ReferenceDataSpec, onChange: (rows: Map<string, ReferenceRow> | Error) => void): () => void {
  const listener = (cur: { mtimeMs: number }, prev: { mtimeMs: number }) => {
    if (cur.mtimeMs === prev.mtimeMs) return;
    try {
      const format = file.toLowerCase().endsWith('.csv') ? 'csv' : 'json';
      onChange(parseReference(readFileSync(file, 'utf8'), format, spec.idField ?? 'id', file));
    } catch (e) {
      onChange(e as Error);
    }
  };
  watchFile(file, { interval: 1000, persistent: false }, listener);
  return () => unwatchFile(file, listener);
}
