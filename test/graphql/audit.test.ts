import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditServer } from 'graphql-http';
import type { ServerHandle } from '../kit/server.js';
import { startGraphqlServer } from './helpers.js';

let server: ServerHandle;

beforeAll(async () => {
  server = await startGraphqlServer();
});
afterAll(async () => {
  await server?.stop();
});

describe('GraphQL over HTTP compliance', () => {
  it('passes every MUST of the graphql-http audit', async () => {
    const results = await auditServer({ url: server.url + '/graphql', fetchFn: fetch });
    const mustFailures = results.filter((r) => r.status === 'error').map((r) => `${r.id} ${r.name}: ${'reason' in r ? r.reason : ''}`);
    expect(mustFailures).toEqual([]);
    expect(results.filter((r) => r.status === 'ok').length).toBeGreaterThan(20);
  });
});
