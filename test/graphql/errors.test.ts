import { describe, expect, it } from 'vitest';
import { codeOf, gql, subscribe, useGraphqlServer, wsClient } from './helpers.js';

const server = useGraphqlServer({ env: { MAX_BODY_BYTES: '4096' } });

/** alerts { twin { alerts { twin { ... } } } } with n twin/alerts pairs, as a query or a subscription */
function deep(n: number, op = ''): string {
  let inner = 'id';
  for (let i = 0; i < n; i++) inner = `twin { alerts(limit: 1) { ${inner} } }`;
  return `${op} { alerts${op ? '' : '(first: 1)'} { ${inner} } }`;
}

describe('bad requests', () => {
  it('answers a syntax error with 400 BAD_REQUEST', async () => {
    const r = await gql(server.url, '{ twins(model: "sensor" { totalCount } }');
    expect(r.status).toBe(400);
    expect(codeOf(r)).toBe('BAD_REQUEST');
  });
  it('answers an unknown field with 400 BAD_REQUEST', async () => {
    const r = await gql(server.url, '{ twins(model: "sensor") { nope } }');
    expect(r.status).toBe(400);
    expect(codeOf(r)).toBe('BAD_REQUEST');
  });
  it('answers bad variables with 400 BAD_REQUEST naming the variable', async () => {
    const r = await gql(server.url, 'query($n: Int!) { twins(model: "sensor", first: $n) { totalCount } }', { n: 'ten' });
    expect(r.status).toBe(400);
    expect(codeOf(r)).toBe('BAD_REQUEST');
    expect(r.body.errors![0]!.message).toMatch(/\$n/);
    const missing = await gql(server.url, 'query($m: String!) { twins(model: $m) { totalCount } }', {});
    expect(missing.status).toBe(400);
    expect(codeOf(missing)).toBe('BAD_REQUEST');
  });
  it('answers a body that is not JSON with 400 INVALID_JSON', async () => {
    const r = await fetch(server.url + '/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query": ' });
    expect(r.status).toBe(400);
    expect((await r.json()).errors[0].extensions.code).toBe('INVALID_JSON');
  });
  it('answers a body over MAX_BODY_BYTES with 413 PAYLOAD_TOO_LARGE', async () => {
    const r = await gql(server.url, '{ twins(model: "sensor") { totalCount } }', { pad: 'x'.repeat(5000) });
    expect(r.status).toBe(413);
    expect(codeOf(r)).toBe('PAYLOAD_TOO_LARGE');
  });
});

describe('depth and cost limits', () => {
  it('accepts a query within the depth limit', async () => {
    const r = await gql(server.url, deep(6));
    expect(r.status).toBe(200);
    expect(r.body.errors).toBeUndefined();
  });
  it('refuses a too-deep query with QUERY_TOO_COMPLEX before running it', async () => {
    const r = await gql(server.url, deep(8));
    expect(r.status).toBe(400);
    expect(codeOf(r)).toBe('QUERY_TOO_COMPLEX');
    expect(r.body.data).toBeUndefined();
  });
  it('refuses a too-costly query with QUERY_TOO_COMPLEX, counting page sizes from variables', async () => {
    const q =
      'query($n: Int) { twins(model: "sensor", first: $n) { edges { node { alerts(limit: 100) { id title message severity at data acknowledged model twinId } } } } }';
    expect((await gql(server.url, q, { n: 10 })).status).toBe(200);
    const r = await gql(server.url, q, { n: 1000 });
    expect(codeOf(r)).toBe('QUERY_TOO_COMPLEX');
  });
  it('allows the standard introspection query', async () => {
    const { getIntrospectionQuery } = await import('graphql');
    const r = await gql(server.url, getIntrospectionQuery());
    expect(r.status).toBe(200);
    expect(r.body.data).toHaveProperty('__schema');
  });
  it('refuses a too-deep subscription over graphql-ws', async () => {
    const client = wsClient(server.url);
    const sub = subscribe(client, deep(8, 'subscription'));
    const r = await sub.next().catch((e: unknown) => ({ errors: (Array.isArray(e) ? e : [e]) as { extensions?: { code?: string } }[] }));
    expect(r.errors?.[0]?.extensions?.code).toBe('QUERY_TOO_COMPLEX');
    await client.dispose();
  });
});
