/** `pnpm simulate` as a user runs it: a child process, its stdout, stderr and exit code. */
import { describe, expect, it } from 'vitest';
import { runScript } from '../../test/run-script.js';

const run = (args: string[]) => runScript('src/simulator/cli.ts', args, { LOG_LEVEL: 'info' });

describe('pnpm simulate', () => {
  it('prints the same NDJSON messages for the same seed, with a progress line and logs on stderr', async () => {
    const args = [
      '--print',
      '--model',
      'gas-sensor',
      '--count',
      '20',
      '--messages',
      '200',
      '--rate',
      '100000',
      '--seed',
      '3',
      '--start',
      '2025-01-01T00:00:00Z',
      '--scenario',
      'gas-leak',
      '--scenario-at',
      '100',
    ];
    const [a, b] = await Promise.all([run(args), run(args)]);
    expect(a.code).toBe(0);
    expect(a.stdout).toBe(b.stdout);
    const lines = a.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { model: string; message: { ppm: number } });
    expect(lines.length).toBeGreaterThan(200);
    expect(lines.every((l) => l.model === 'gas-sensor')).toBe(true);
    expect(lines.slice(100).some((l) => l.message.ppm >= 200)).toBe(true);
    expect(a.stderr).toMatch(/rate [\d,]+\/s {2}sent [\d,]+ {2}acked [\d,]+ {2}errors 0/);
    expect(a.stderr).toContain('"msg":"done"');
  });

  it('lists its scenarios', async () => {
    const r = await run(['--list-scenarios']);
    expect(r.code).toBe(0);
    expect(
      r.stdout
        .trim()
        .split('\n')
        .map((l) => l.split(/\s+/)[0]),
    ).toEqual(['grid-attack', 'regional-outage', 'gas-leak', 'positive-test']);
  });

  it('exits 2 with the usage on a bad option', async () => {
    const r = await run(['--model', 'zeppelin']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--model must be one of');
    expect(r.stderr).toContain('Usage: pnpm simulate');
  });
});
