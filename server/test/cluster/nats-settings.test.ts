/** NATS settings from the environment: defaults, and a clear CONFIG_INVALID for each mistake. */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { natsSettings } from '../../src/cluster/nats-settings.js';

const dir = mkdtempSync(path.join(tmpdir(), 'hextwin-nats-settings-'));
const file = path.join(dir, 'ca.pem');
writeFileSync(file, 'x');

describe('natsSettings', () => {
  it('defaults to one replica and no credentials', () => {
    expect(natsSettings({})).toEqual({ replicas: 1 });
  });

  it('reads credentials and TLS files', () => {
    expect(natsSettings({ NATS_REPLICAS: '3', NATS_USER: 'u', NATS_PASSWORD: 'p', NATS_TLS_CA: file, NATS_TLS_CERT: file, NATS_TLS_KEY: file })).toEqual({
      replicas: 3,
      user: 'u',
      password: 'p',
      tls: { caFile: file, certFile: file, keyFile: file },
    });
  });

  it.each([
    [{ NATS_REPLICAS: '0' }, /NATS_REPLICAS="0" must be a whole number from 1 to 5/],
    [{ NATS_REPLICAS: 'three' }, /NATS_REPLICAS/],
    [{ NATS_USER: 'u' }, /NATS_USER and NATS_PASSWORD go together/],
    [{ NATS_USER: 'u', NATS_PASSWORD: 'p', NATS_TOKEN: 't' }, /one way to authenticate/],
    [{ NATS_CREDS: path.join(dir, 'missing.creds') }, /NATS_CREDS=.*no readable file/],
    [{ NATS_NKEY_SEED: 'not-a-seed' }, /starts with "SU"/],
    [{ NATS_TLS_CERT: file }, /NATS_TLS_CERT and NATS_TLS_KEY go together/],
  ])('refuses %j', (env, message) => {
    expect(() => natsSettings(env)).toThrow(message);
    try {
      natsSettings(env);
    } catch (e) {
      expect((e as { code?: string }).code).toBe('CONFIG_INVALID');
    }
  });
});
