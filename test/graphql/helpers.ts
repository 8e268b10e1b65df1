/** Helpers for the GraphQL tests: a real server with the fixture models, HTTP requests, graphql-ws clients. */
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createClient, type Client } from 'graphql-ws';
import { afterAll, beforeAll } from 'vitest';
import WebSocket from 'ws';
import { repoRoot, startServer, type ServerHandle } from '../kit/server.js';

export const fixtureModels = path.join(repoRoot, 'test/fixtures/graphql-models');

/** API keys of the auth tests: name → [key, role]. */
export const KEYS = {
  viewer: ['viewer-key-1', 'viewer'],
  operator: ['operator-key-1', 'operator'],
  device: ['device-key-1', 'device'],
} as const;

export function writeAuthFile(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'hextwin-auth-'));
  const file = path.join(dir, 'auth.json');
  const keys = Object.entries(KEYS).map(([name, [key, role]]) => ({
    name,
    role,
    sha256: createHash('sha256').update(key).digest('hex'),
    ...(role === 'device' ? { twins: ['sensor/*'] } : {}),
  }));
  writeFileSync(file, JSON.stringify({ keys }));
  return file;
}

export interface GraphqlServerOptions {
  /** require the API keys of KEYS */
  auth?: boolean;
  env?: Record<string, string>;
}

function startGraphqlServer(opts: GraphqlServerOptions = {}): Promise<ServerHandle> {
  return startServer({
    env: { MODELS_DIR: fixtureModels, HEXTWIN_SAMPLE_MODELS: '0', ...(opts.auth ? { AUTH_FILE: writeAuthFile() } : {}), ...opts.env },
  });
}

/**
 * One server for the whole test file: started before its first test (its own `beforeAll` hooks
 * registered later run after), stopped after its last. `url` is there once the server is up.
 */
export function useGraphqlServer(opts: GraphqlServerOptions = {}): { readonly url: string } {
  let server: ServerHandle | undefined;
  beforeAll(async () => {
    server = await startGraphqlServer(opts);
  });
  afterAll(async () => {
    await server?.stop();
  });
  return {
    get url() {
      if (!server) throw new Error('the GraphQL test server is not up yet: read url inside a hook or a test');
      return server.url;
    },
  };
}

export interface GqlResponse<D = Record<string, unknown>> {
  status: number;
  body: { data?: D | null; errors?: { message: string; extensions?: { code?: string; details?: unknown }; path?: unknown[] }[] };
  headers: Headers;
}

/** POST a GraphQL request. */
export async function gql<D = Record<string, any>>(
  url: string,
  query: string,
  variables?: Record<string, unknown>,
  opts: { key?: string; headers?: Record<string, string> } = {},
): Promise<GqlResponse<D>> {
  const r = await fetch(url + '/graphql', {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
      ...(opts.key ? { authorization: `Bearer ${opts.key}` } : {}),
      ...opts.headers,
    },
    body: JSON.stringify({ query, variables }),
  });
  const text = await r.text();
  return { status: r.status, body: JSON.parse(text), headers: r.headers };
}

/** POST and expect data without errors. */
export async function data<D = Record<string, any>>(url: string, query: string, variables?: Record<string, unknown>, key?: string): Promise<D> {
  const r = await gql<D>(url, query, variables, { key });
  if (r.body.errors?.length || r.status !== 200) throw new Error(`GraphQL failed (${r.status}): ${JSON.stringify(r.body.errors)}`);
  return r.body.data as D;
}

/** The first error's code. */
export const codeOf = (r: GqlResponse<unknown>) => r.body.errors?.[0]?.extensions?.code;

/** Send messages to sensor twins through the sendToTwin mutation (one request). */
export async function send(url: string, messages: [id: string, message: Record<string, unknown>][], key?: string, model = 'sensor'): Promise<void> {
  const fields = messages.map((_, i) => `m${i}: sendToTwin(model: $model, id: $id${i}, message: $msg${i})`).join('\n');
  const defs = messages.map((_, i) => `$id${i}: ID!, $msg${i}: JSON!`).join(', ');
  const vars: Record<string, unknown> = { model };
  messages.forEach(([id, msg], i) => {
    vars[`id${i}`] = id;
    vars[`msg${i}`] = msg;
  });
  await data(url, `mutation Send($model: String!, ${defs}) { ${fields} }`, vars, key);
}

/** Retry an assertion until it passes or time runs out (the engine applies messages asynchronously). */
export async function eventually<T>(fn: () => Promise<T> | T, ms = 5_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

export function wsClient(url: string, key?: string, on?: { closed?: (e: unknown) => void }): Client {
  return createClient({
    url: url.replace(/^http/, 'ws') + '/graphql',
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    lazy: true,
    connectionParams: key ? { authorization: `Bearer ${key}` } : {},
    on,
  });
}

/** Subscribe and pull results one at a time. */
export function subscribe(client: Client, query: string, variables?: Record<string, unknown>) {
  const it = client.iterate<any>({ query, variables });
  return {
    async next(ms = 5_000): Promise<{ data?: any; errors?: { message: string; extensions?: { code?: string } }[] }> {
      let timer: NodeJS.Timeout | undefined;
      const r = await Promise.race([
        it.next(),
        new Promise<never>((_, rej) => (timer = setTimeout(() => rej(new Error(`no subscription result within ${ms} ms for ${query}`)), ms))),
      ]).finally(() => clearTimeout(timer));
      if (r.done) throw new Error('subscription completed');
      return r.value as never;
    },
    /** true when nothing arrives within ms */
    async quiet(ms: number): Promise<boolean> {
      let timer: NodeJS.Timeout | undefined;
      const r = await Promise.race([it.next().then(() => false), new Promise<boolean>((res) => (timer = setTimeout(() => res(true), ms)))]);
      clearTimeout(timer);
      return r;
    },
    close: () => it.return?.(),
  };
}
