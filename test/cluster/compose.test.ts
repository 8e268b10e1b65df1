/** The docker-compose file validates (docker-compose v1 checks it without a Docker engine) and holds the cluster. */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../kit/server.js';

const compose = (...args: string[]) =>
  execFileSync('docker-compose', ['-f', path.join(repoRoot, 'docker-compose.yml'), ...args], { cwd: repoRoot, encoding: 'utf8' });

describe('docker-compose.yml', () => {
  it('validates', () => {
    expect(() => compose('config', '-q')).not.toThrow();
  });

  it('runs NATS, three nodes joined to it under distinct ids, one proxy port and the simulator, each with a health check', () => {
    expect(compose('config', '--services').trim().split('\n').sort()).toEqual(['hextwin-1', 'hextwin-2', 'hextwin-3', 'nats', 'proxy', 'simulator']);
    const text = compose('config');
    expect(text.match(/NATS_URL: nats:\/\/nats:4222/g)).toHaveLength(3);
    for (const id of ['hextwin-1', 'hextwin-2', 'hextwin-3']) expect(text).toContain(`NODE_ID: ${id}`);
    expect(text.match(/healthcheck:/g)).toHaveLength(6);
    expect(text).toContain('nats-data:/data');
    expect(text.match(/127\.0\.0\.1:4000:80/g)).toHaveLength(1);
  });
});
