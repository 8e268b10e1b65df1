import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';

describe('Configuration from the environment', () => {
  it('uses the contract defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      port: 4000,
      host: '127.0.0.1',
      maxBodyBytes: 1024 * 1024,
      mqttUrl: undefined,
      natsUrl: undefined,
      authFile: undefined,
      logLevel: 'info',
    });
    expect(c.dataDir.endsWith('/data')).toBe(true);
  });

  it('reads SIMULATION_* into a simulation run, none by default, and names a bad value', () => {
    expect(loadConfig({}).simulation).toBeUndefined();
    expect(
      loadConfig({ SIMULATION_SPEED: '60', SIMULATION_START: '2030-01-01T00:00:00Z', SIMULATION_DURATION_MS: '3600000', SIMULATION_MODELS: 'a, b' }).simulation,
    ).toEqual({
      speed: 60,
      start: Date.parse('2030-01-01T00:00:00Z'),
      durationMs: 3_600_000,
      models: ['a', 'b'],
    });
    expect(loadConfig({ SIMULATION_SPEED: 'max' }).simulation?.speed).toBe(Infinity);
    expect(() => loadConfig({ SIMULATION_SPEED: 'fast' })).toThrow(/SIMULATION_SPEED="fast" must be a number above 0 or "max"/);
    expect(() => loadConfig({ SIMULATION_SPEED: '1', SIMULATION_START: 'soon' })).toThrow(/SIMULATION_START/);
  });

  it('names the variable and the allowed range for a bad number', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT="eighty" must be a whole number from 0 to 65535/);
    expect(() => loadConfig({ MAX_BODY_BYTES: '-1' })).toThrow(/MAX_BODY_BYTES/);
  });

  it('refuses a broker URL of the wrong kind and an unknown log level', () => {
    expect(() => loadConfig({ MQTT_URL: 'http://broker' })).toThrow(/MQTT_URL must use/);
    expect(() => loadConfig({ NATS_URL: 'not a url' })).toThrow(/NATS_URL="not a url" is not a URL/);
    expect(() => loadConfig({ LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL must be one of/);
  });

  it('derives the node id from host and port unless NODE_ID is set', () => {
    expect(loadConfig({ PORT: '4100' }).nodeId).toMatch(/-4100$/);
    expect(loadConfig({ NODE_ID: 'edge-1' }).nodeId).toBe('edge-1');
  });

  it('resolves relative DATA_DIR, MODELS_DIR, AUTH_FILE and ALERT_WEBHOOKS against the directory pnpm was started from', () => {
    const c = loadConfig({
      INIT_CWD: '/home/u/twins',
      MODELS_DIR: './my-models',
      AUTH_FILE: 'keys/auth.json',
      ALERT_WEBHOOKS: '../hooks.json',
      DATA_DIR: '/var/lib/hextwin',
    });
    expect(c.modelsDir).toBe('/home/u/twins/my-models');
    expect(c.authFile).toBe('/home/u/twins/keys/auth.json');
    expect(c.alertWebhooks).toBe('/home/u/hooks.json');
    expect(c.dataDir).toBe('/var/lib/hextwin');
    expect(loadConfig({ INIT_CWD: '/home/u/twins' }).dataDir).toBe('/home/u/twins/data');
  });

  it('prefers the start directory the root scripts pass on over the INIT_CWD of the nested pnpm', () => {
    const c = loadConfig({ HEXTWIN_START_DIR: '/home/u/twins', INIT_CWD: '/repo', MODELS_DIR: 'm' });
    expect(c.modelsDir).toBe('/home/u/twins/m');
    expect(c.dataDir).toBe('/home/u/twins/data');
  });
});
