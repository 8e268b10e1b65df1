import { describe, expect, it } from 'vitest';
import { auditServer } from 'graphql-http';
import { useGraphqlServer } from './helpers.js';

const server = useGraphqlServer();

describe('GraphQL over HTTP compliance', () => {
  it('passes every MUST of the graphql-http audit', async () => {
    const results = await auditServer({ url: server.url + '/graphql', fetchFn: fetch });
    const mustFailures = results.filter((r) => r.status === 'error').map((r) => `${r.id} ${r.name}: ${'reason' in r ? r.reason : ''}`);
    expect(mustFailures).toEqual([]);
    expect(results.filter((r) => r.status === 'ok').length).toBeGreaterThan(20);
  });
});
