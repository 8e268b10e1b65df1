/**
 * `pnpm bench [--quick] [--only TEXT]`: runs the floors (floors.ts), then every figure of
 * bench/figures/*.ts, prints one JSON line per figure on stdout
 * (`{"name","value","unit","floor","ratio","goal"}`), progress and a table at the end on stderr, and
 * writes the results to .bench/results-<timestamp>.json at the workspace root.
 * `--only` runs the floors and figures whose name contains TEXT (or any of a comma-separated list),
 * and the floors those figures name in `floors`;
 * `--figures DIR` loads the figure files from DIR instead of bench/figures; `--out DIR` writes the
 * results file there.
 * Exits 1 when a figure failed (threw or ran out of time); slow figures are figures, not failures.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { Bench, Figure, FigureReport, FigureResult } from './bench.js';
import { isFigure } from './bench.js';
import floors from './floors.js';
import { stopChildrenOnExit, stopTracked } from './lib/children.js';
import { formatTable } from './lib/table.js';

const here = path.dirname(fileURLToPath(import.meta.url));

async function loadFigures(dir: string): Promise<Figure[]> {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.endsWith('.d.ts'))
    .sort();
  const out: Figure[] = [];
  for (const f of files) {
    const mod = (await import(pathToFileURL(path.join(dir, f)).href)) as { default?: unknown };
    if (!isFigure(mod.default)) throw new Error(`${path.join(dir, f)} must export default { name: string, async run(b) }`);
    out.push(mod.default);
  }
  return out;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms / 1000} s`)), ms)));
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { quick: { type: 'boolean' }, only: { type: 'string' }, out: { type: 'string' }, figures: { type: 'string' } },
  });
  const quick = values.quick ?? false;
  const only = values.only;
  const wanted = only?.split(',').filter((w) => w !== '');
  const results: FigureResult[] = [];
  const failures: { figure: string; error: string }[] = [];
  const floorValues = new Map<string, number>();
  // every value reported so far: a figure may be quoted against a peer measured earlier in the run
  const measured = new Map<string, number>();
  const startedAt = new Date();
  const t0 = performance.now();
  const note = (text: string) => process.stderr.write(`[bench ${((performance.now() - t0) / 1000).toFixed(1)}s] ${text}\n`);
  stopChildrenOnExit(note);

  const figureDir = values.figures ? path.resolve(values.figures) : path.join(here, 'figures');
  const picked = (f: Figure) => !wanted || wanted.some((w) => f.name.includes(w));
  const chosen = (await loadFigures(figureDir)).filter(picked);
  const needed = new Set(chosen.flatMap((f) => f.floors ?? []));
  const figures = [...floors.filter((f) => picked(f) || (f.provides ?? [f.name]).some((n) => needed.has(n))), ...chosen];
  note(`${quick ? 'quick run' : 'full run'}: ${figures.length} figure files, node ${process.version}, ${cpus().length} cores`);

  for (const figure of figures) {
    const isFloor = floors.includes(figure);
    const bench: Bench = {
      quick,
      floor: (name) => floorValues.get(name),
      progress: (text) => note(`${figure.name}: ${text}`),
      report(r: FigureReport) {
        if (!Number.isFinite(r.value)) throw new Error(`${figure.name} reported ${r.name} = ${r.value}`);
        if (isFloor) floorValues.set(r.name, r.value);
        measured.set(r.name, r.value);
        const floorValue = r.floor === undefined ? undefined : measured.get(r.floor);
        const result: FigureResult = {
          name: r.name,
          value: Number(r.value.toPrecision(6)),
          unit: r.unit,
          floor: r.floor ?? null,
          ratio: floorValue ? Number((r.value / floorValue).toPrecision(4)) : null,
          goal: r.goal ?? null,
        };
        results.push(result);
        process.stdout.write(JSON.stringify(result) + '\n');
      },
    };
    note(`${figure.name} ...`);
    const started = performance.now();
    try {
      await withTimeout(figure.run(bench), figure.timeoutMs?.(quick) ?? (quick ? 60_000 : 600_000), figure.name);
      note(`${figure.name} done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    } catch (e) {
      failures.push({ figure: figure.name, error: (e as Error).message });
      note(`${figure.name} FAILED: ${(e as Error).stack ?? String(e)}`);
    }
    // whatever the figure left running (it failed, timed out or forgot) is stopped before the next one
    for (const left of await stopTracked()) note(`stopped ${left.what} (pid ${left.pid}) that ${figure.name} left running`);
  }

  process.stderr.write('\n' + formatTable(results) + '\n');
  if (failures.length > 0) process.stderr.write(`\n${failures.length} figure file(s) failed: ${failures.map((f) => f.figure).join(', ')}\n`);

  const dir = values.out ? path.resolve(values.out) : path.resolve(here, '..', '..', '.bench');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `results-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(
    file,
    JSON.stringify(
      {
        startedAt: startedAt.toISOString(),
        quick,
        only: only ?? null,
        node: process.version,
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model ?? null,
        results,
        failures,
      },
      null,
      2,
    ) + '\n',
  );
  note(`results written to ${path.relative(process.cwd(), file)}`);
  return failures.length > 0 ? 1 : 0;
}

main().then(
  // figures may leave sockets or timers behind: the run is over
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
