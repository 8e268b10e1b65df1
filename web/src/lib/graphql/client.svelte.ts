/**
 * The dashboard's one way to the server: GraphQL queries and mutations over HTTP POST, and
 * subscriptions over graphql-ws on the same path. It tracks whether the server is reachable and
 * whether it wants an API key, re-subscribes everything after a reconnect or a new key, and tells
 * each subscription when it restarts (so a continuous query can drop what it showed before).
 */
import { createClient, type Client } from 'graphql-ws';
import { FailureKind, RequestError, fromGraphQLErrors, isAuthClose } from './errors.ts';

export const Connection = {
  Connecting: 'connecting',
  Online: 'online',
  Offline: 'offline',
  Unauthenticated: 'unauthenticated',
} as const;
export type Connection = (typeof Connection)[keyof typeof Connection];

export interface SubscriptionHandlers<T> {
  next(data: T): void;
  /** called when the subscription starts over (after a reconnect): what it sent before is stale */
  restart?(): void;
  error?(error: RequestError): void;
}

interface ActiveSubscription {
  query: string;
  variables: Record<string, unknown>;
  handlers: SubscriptionHandlers<never>;
  stop: (() => void) | undefined;
  retryTimer: ReturnType<typeof setTimeout> | undefined;
  started: boolean;
}

export interface ClientOptions {
  httpUrl: string;
  wsUrl: string;
  /** the API key to present, if any */
  apiKey: () => string | null;
}

const MAX_RETRY_WAIT_MS = 5_000;

export class GraphQLClient {
  #state = $state<Connection>(Connection.Connecting);
  #retryAt = $state<number | null>(null);
  #lastError = $state<string | null>(null);
  #options: ClientOptions;
  #ws: Client;
  #subscriptions = new Set<ActiveSubscription>();

  constructor(options: ClientOptions) {
    this.#options = options;
    this.#ws = this.#createSocket();
  }

  /** whether the server is reachable and accepts us */
  get state(): Connection {
    return this.#state;
  }

  /** when the next reconnect attempt is due (epoch ms), while offline */
  get retryAt(): number | null {
    return this.#retryAt;
  }

  get lastError(): string | null {
    return this.#lastError;
  }

  /** Runs a query or mutation over HTTP POST. Rejects with a RequestError. */
  async request<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
    };
    const key = this.#options.apiKey();
    if (key) headers.authorization = `Bearer ${key}`;
    let response: Response;
    try {
      response = await fetch(this.#options.httpUrl, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
    } catch (cause) {
      this.#setOffline('The server cannot be reached.');
      throw new RequestError(FailureKind.Network, 'The server cannot be reached.', undefined, { cause });
    }
    let body: { data?: T | null; errors?: { message?: unknown; extensions?: { code?: unknown } }[] } | undefined;
    try {
      body = (await response.json()) as typeof body;
    } catch {
      body = undefined;
    }
    if (response.status === 401 || body?.errors?.some((e) => e.extensions?.code === 'UNAUTHENTICATED')) {
      this.#setUnauthenticated();
      throw new RequestError(FailureKind.Unauthenticated, 'An API key is required.', 'UNAUTHENTICATED');
    }
    if (response.status >= 502 && response.status <= 504) {
      // a proxy in front of the server answers for it: the server itself is away
      this.#setOffline(`The server answered ${response.status}.`);
      throw new RequestError(FailureKind.Network, `The server answered HTTP ${response.status}.`);
    }
    // a GraphQL server answered: if only HTTP had failed before, the banner can go
    if (this.#state === Connection.Offline && body && ('data' in body || 'errors' in body)) {
      this.#state = Connection.Online;
      this.#lastError = null;
    }
    if (body?.errors?.length) throw fromGraphQLErrors(body.errors);
    if (!response.ok || !body || body.data === undefined || body.data === null) {
      throw new RequestError(FailureKind.Server, `The server answered HTTP ${response.status}.`);
    }
    return body.data;
  }

  /** Starts a subscription that survives reconnects; returns a function that stops it. */
  subscribe<T>(query: string, variables: Record<string, unknown>, handlers: SubscriptionHandlers<T>): () => void {
    const sub: ActiveSubscription = {
      query,
      variables,
      handlers: handlers as SubscriptionHandlers<never>,
      stop: undefined,
      retryTimer: undefined,
      started: false,
    };
    this.#subscriptions.add(sub);
    this.#start(sub);
    return () => {
      this.#subscriptions.delete(sub);
      clearTimeout(sub.retryTimer);
      sub.stop?.();
    };
  }

  /** Replaces the socket (after a new API key, or to retry now): every subscription starts over. */
  reconnect(): void {
    const old = this.#ws;
    for (const sub of this.#subscriptions) {
      clearTimeout(sub.retryTimer);
      sub.stop?.();
      sub.stop = undefined;
    }
    this.#ws = this.#createSocket();
    void old.dispose();
    this.#state = Connection.Connecting;
    for (const sub of this.#subscriptions) this.#start(sub);
  }

  dispose(): void {
    for (const sub of this.#subscriptions) {
      clearTimeout(sub.retryTimer);
      sub.stop?.();
    }
    this.#subscriptions.clear();
    void this.#ws.dispose();
  }

  #start(sub: ActiveSubscription): void {
    const ws = this.#ws;
    if (sub.started) sub.handlers.restart?.();
    sub.started = true;
    sub.stop = ws.subscribe<unknown>(
      { query: sub.query, variables: sub.variables },
      {
        next: (result) => {
          if (result.errors?.length) {
            this.#fail(sub, fromGraphQLErrors(result.errors));
            return;
          }
          if (result.data) (sub.handlers.next as (d: unknown) => void)(result.data);
        },
        error: (err: unknown) => {
          if (ws !== this.#ws) return; // a socket we replaced on purpose
          this.#fail(sub, toRequestError(err));
        },
        complete: () => {},
      },
    );
  }

  #fail(sub: ActiveSubscription, error: RequestError): void {
    if (error.kind === FailureKind.Unauthenticated) this.#setUnauthenticated();
    sub.handlers.error?.(error);
    // The server ended the subscription (a fatal close, or an error it may get over):
    // try again later unless it is about the key, which only a new key can fix.
    if (error.kind === FailureKind.Unauthenticated || !this.#subscriptions.has(sub)) return;
    if (error.kind === FailureKind.Server && error.code !== undefined && error.code !== 'INTERNAL') return;
    clearTimeout(sub.retryTimer);
    sub.retryTimer = setTimeout(() => {
      if (this.#subscriptions.has(sub)) this.#start(sub);
    }, 2_000);
  }

  #createSocket(): Client {
    const ws = createClient({
      url: this.#options.wsUrl,
      lazy: true,
      keepAlive: 10_000,
      retryAttempts: Number.POSITIVE_INFINITY,
      connectionParams: () => {
        const key = this.#options.apiKey();
        return key ? { authorization: `Bearer ${key}` } : {};
      },
      shouldRetry: (event) => !(isCloseEvent(event) && isAuthClose(event.code, event.reason)),
      retryWait: async (retries) => {
        const wait = Math.min(MAX_RETRY_WAIT_MS, 500 * 2 ** retries) * (0.75 + Math.random() * 0.5);
        this.#retryAt = Date.now() + wait;
        await new Promise((resolve) => setTimeout(resolve, wait));
      },
      on: {
        connecting: () => {
          if (ws === this.#ws && this.#state !== Connection.Offline) this.#state = Connection.Connecting;
        },
        connected: (_socket, _payload, wasRetry) => {
          if (ws !== this.#ws) return;
          this.#state = Connection.Online;
          this.#retryAt = null;
          this.#lastError = null;
          // graphql-ws re-subscribes by itself after a reconnect; what each subscription showed
          // before may be stale (a continuous query sends its whole matching set again)
          if (wasRetry) for (const sub of this.#subscriptions) sub.handlers.restart?.();
        },
        closed: (event) => {
          if (ws !== this.#ws || !isCloseEvent(event)) return;
          if (isAuthClose(event.code, event.reason)) this.#setUnauthenticated();
          else if (event.code !== 1000) this.#setOffline(event.reason || 'The connection to the server was lost.');
        },
      },
    });
    return ws;
  }

  #setOffline(why: string): void {
    if (this.#state === Connection.Unauthenticated) return;
    this.#state = Connection.Offline;
    this.#lastError = why;
  }

  #setUnauthenticated(): void {
    this.#state = Connection.Unauthenticated;
  }
}

function isCloseEvent(value: unknown): value is { code: number; reason: string } {
  return typeof value === 'object' && value !== null && 'code' in value && 'reason' in value;
}

function toRequestError(err: unknown): RequestError {
  if (err instanceof RequestError) return err;
  if (Array.isArray(err)) return fromGraphQLErrors(err as { message?: unknown; extensions?: { code?: unknown } }[]);
  if (isCloseEvent(err)) {
    if (isAuthClose(err.code, err.reason)) return new RequestError(FailureKind.Unauthenticated, 'An API key is required.', 'UNAUTHENTICATED');
    return new RequestError(FailureKind.Network, err.reason || `The connection closed (${err.code}).`);
  }
  return new RequestError(FailureKind.Network, err instanceof Error ? err.message : 'The connection failed.', undefined, { cause: err });
}
