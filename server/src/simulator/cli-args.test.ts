import { describe, expect, it } from 'vitest';
import { UsageError, ingestUrl, parseCliArgs } from './cli-args.js';

const NOW = Date.parse('2025-06-01T00:00:00Z');

describe('parseCliArgs', () => {
  it('reads the options of the documented example', () => {
    const o = parseCliArgs(
      [
        '--target',
        'http://127.0.0.1:4000',
        '--model',
        'grid-node',
        '--count',
        '20000',
        '--rate',
        '5000',
        '--seed',
        '1',
        '--duration',
        '60',
        '--key',
        'k1',
        '--scenario',
        'grid-attack',
      ],
      {},
      NOW,
    );
    expect(o.target.href).toBe('http://127.0.0.1:4000/');
    expect(o.size).toEqual({ 'grid-node': 20_000 });
    expect(o.rate).toBe(5000);
    expect(o.seed).toBe('1');
    expect(o.durationMs).toBe(60_000);
    expect(o.key).toBe('k1');
    expect(o.scenarios).toEqual([{ name: 'grid-attack' }]);
    expect(o.transport).toBe('ws');
  });

  it('defaults to the whole demo world, now, real time, and the key from HEXTWIN_KEY', () => {
    const o = parseCliArgs([], { HEXTWIN_KEY: 'from-env' }, NOW);
    expect(o.size).toEqual({ 'grid-node': 20_000, truck: 2_000, 'gas-sensor': 50, 'wind-turbine': 200, employee: 200 });
    expect(o.start).toBe(NOW);
    expect(o.speed).toBe(1);
    expect(o.key).toBe('from-env');
    expect(o.durationMs).toBeUndefined();
  });

  it('accepts a start time as ISO 8601 or epoch ms, and a scenario position', () => {
    expect(parseCliArgs(['--start', '2024-01-01T00:00:00Z'], {}, NOW).start).toBe(Date.parse('2024-01-01T00:00:00Z'));
    expect(parseCliArgs(['--start', '1700000000000'], {}, NOW).start).toBe(1_700_000_000_000);
    expect(parseCliArgs(['--scenario', 'gas-leak', '--scenario', 'positive-test', '--scenario-at', '500'], {}, NOW).scenarios).toEqual([
      { name: 'gas-leak', atMessage: 500 },
      { name: 'positive-test', atMessage: 500 },
    ]);
  });

  it.each([
    [['--model', 'spaceship'], /--model must be one of/],
    [['--count', '10'], /--count needs a single --model/],
    [['--rate=-3'], /--rate must be a number above 0/],
    [['--batch', '1.5'], /--batch must be a whole number/],
    [['--target', 'ftp://x'], /http\(s\)/],
    [['--transport', 'carrier-pigeon'], /ws or rest/],
    [['--scenario', 'meteor'], /--scenario must be one of grid-attack/],
    [['--start', 'yesterday'], /--start must be/],
    [['--bogus'], /bogus/],
  ])('refuses %j with a clear message', (argv, message) => {
    expect(() => parseCliArgs(argv, {}, NOW)).toThrow(UsageError);
    expect(() => parseCliArgs(argv, {}, NOW)).toThrow(message);
  });
});

describe('parseCliArgs --serve', () => {
  it('reads a dedicated simulation server: speed max, the models to run and a simulated duration', () => {
    const o = parseCliArgs(['--serve', '--speed', 'max', '--sim-models', 'grid-node-sim, status-device', '--sim-duration', '3600']);
    expect(o.speed).toBe(Infinity);
    expect(o.serve).toEqual({ simModels: ['grid-node-sim', 'status-device'], simDurationMs: 3_600_000 });
  });

  it('refuses speed max and the simulation options without --serve', () => {
    expect(() => parseCliArgs(['--speed', 'max'])).toThrow(UsageError);
    expect(() => parseCliArgs(['--sim-duration', '60'])).toThrow(/need --serve/);
  });
});

describe('ingestUrl', () => {
  it('turns the server address into its /ingest WebSocket address', () => {
    expect(ingestUrl(new URL('http://127.0.0.1:4000'))).toBe('ws://127.0.0.1:4000/ingest');
    expect(ingestUrl(new URL('https://twins.example/base/'))).toBe('wss://twins.example/base/ingest');
  });
});
