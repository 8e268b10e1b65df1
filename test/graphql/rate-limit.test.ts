/** GraphQL operations are rate limited per API key, over HTTP and graphql-ws alike (GRAPHQL_RATE_LIMIT). */
import { describe, expect, it } from 'vitest';
import { metric } from '../kit/metrics.js';
import { codeOf, gql, KEYS, subscribe, useGraphqlServer, wsClient } from './helpers.js';

const server = useGraphqlServer({ auth: true, env: { GRAPHQL_RATE_LIMIT: '5' } });

const VIEWER = KEYS.viewer[0];
const OPERATOR = KEYS.operator[0];
const query = '{ twins(model: "sensor", first: 0) { totalCount } }';

describe('GraphQL rate limit', () => {
  it('answers 429 RATE_LIMITED with Retry-After once a key spends its operations, and not for another key', async () => {
    const answers = await Promise.all(Array.from({ length: 20 }, () => gql(server.url, query, undefined, { key: VIEWER })));
    const limited = answers.filter((r) => r.status === 429);
    // a bucket of 5 refills 5 a second: a slow machine may let a few more through while the burst runs
    expect(answers.filter((r) => r.status === 200).length).toBeLessThanOrEqual(10);
    expect(limited.length).toBeGreaterThanOrEqual(10);
    expect(codeOf(limited[0]!)).toBe('RATE_LIMITED');
    expect(Number(limited[0]!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await gql(server.url, query, undefined, { key: OPERATOR })).status).toBe(200);
    expect(await metric(server.url, 'hextwin_graphql_refused_total', { limit: 'rate' }, KEYS.viewer[0])).toBeGreaterThanOrEqual(10);
  });
  it('refuses graphql-ws operations of the same key once it spent its operations', async () => {
    // the HTTP burst above left the viewer's bucket empty (it refills 5 a second)
    const client = wsClient(server.url, VIEWER);
    const codes = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const r = await subscribe(client, query)
          .next()
          .catch((e: unknown) => ({ errors: (Array.isArray(e) ? e : [e]) as { extensions?: { code?: string } }[] }));
        return r.errors?.[0]?.extensions?.code ?? 'ok';
      }),
    );
    expect(codes.filter((c) => c === 'RATE_LIMITED').length).toBeGreaterThanOrEqual(14);
    await client.dispose();
  });
});
