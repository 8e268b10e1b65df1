/** The readable table printed at the end of a run. */
import type { FigureResult } from '../bench.js';

function fmt(x: number): string {
  if (Math.abs(x) >= 1_000) return Math.round(x).toLocaleString('en-US');
  if (Math.abs(x) >= 10) return x.toFixed(1);
  return x.toPrecision(3);
}

export function formatTable(results: readonly FigureResult[]): string {
  const rows = [
    ['figure', 'value', 'unit', 'ratio to floor', 'goal'],
    ...results.map((r) => [
      r.name,
      fmt(r.value),
      r.unit,
      r.ratio === null ? (r.floor ? `(${r.floor} not measured)` : '') : `${r.ratio.toFixed(2)} × ${r.floor}`,
      r.goal ?? '',
    ]),
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  const line = (row: string[]) =>
    row
      .map((cell, c) => (c === 1 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd();
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}
