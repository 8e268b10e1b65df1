/** `pnpm bench` as CI runs it: a child process, JSON lines on stdout, a table on stderr, a results file. */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { runScript } from '../run-script.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const bench = (args: string[]) => runScript('bench/run.ts', args);

describe('pnpm bench', () => {
  it('prints one JSON line per figure, a table, and writes the same results to a file', async () => {
    const out = mkdtempSync(path.join(tmpdir(), 'hextwin-bench-'));
    dirs.push(out);
    const r = await bench(['--quick', '--only', 'floor.filter', '--out', out]);
    expect(r.code).toBe(0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(1);
    expect(Object.keys(lines[0]!)).toEqual(['name', 'value', 'unit', 'floor', 'ratio', 'goal']);
    expect(lines[0]).toMatchObject({ name: 'floor.filter-scan', unit: 'ms (100k twins)', floor: null, ratio: null });
    expect(lines[0]!.value).toBeGreaterThan(0);
    expect(r.stderr).toMatch(/^figure\s+value\s+unit/m);
    const files = readdirSync(out);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^results-.*\.json$/);
    const saved = JSON.parse(readFileSync(path.join(out, files[0]!), 'utf8')) as { quick: boolean; results: unknown[]; failures: unknown[] };
    expect(saved.quick).toBe(true);
    expect(saved.results).toEqual(lines);
    expect(saved.failures).toEqual([]);
  });

  it('runs the floors a chosen figure names, and quotes a figure against a peer reported before it', async () => {
    const out = mkdtempSync(path.join(tmpdir(), 'hextwin-bench-'));
    dirs.push(out);
    const figures = fileURLToPath(new URL('./figures-with-floors', import.meta.url));
    const r = await bench(['--quick', '--figures', figures, '--only', 'fixture.compares', '--out', out]);
    expect(r.code).toBe(0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { name: string; ratio: number | null });
    expect(lines.map((l) => l.name)).toEqual(['floor.filter-scan', 'fixture.scan', 'fixture.peer', 'fixture.ours']);
    expect(lines[1]!.ratio).toBe(2);
    expect(lines[3]!.ratio).toBe(0.25);
  });
});
