/**
 * What the server says about itself and its models (`status` and `models` queries), refreshed on a
 * slow timer: these are counters for people, not live map data, and the schema offers no
 * subscription for them.
 */
import type { GraphQLClient } from '../graphql/client.svelte.ts';
import { MODELS, STATUS } from '../graphql/operations.ts';
import type { ModelInfo, ServerStatus } from '../graphql/types.ts';
import { RequestError } from '../graphql/errors.ts';

const REFRESH_MS = 5_000;

export class ServerInfo {
  #client: GraphQLClient;
  #models = $state.raw<ModelInfo[]>([]);
  #status = $state.raw<ServerStatus | null>(null);
  #error = $state<string | null>(null);
  #loaded = $state(false);
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = true;

  constructor(client: GraphQLClient) {
    this.#client = client;
  }

  get models(): ModelInfo[] {
    return this.#models;
  }
  get status(): ServerStatus | null {
    return this.#status;
  }
  get error(): string | null {
    return this.#error;
  }
  /** true once the first answer came in */
  get loaded(): boolean {
    return this.#loaded;
  }

  model(name: string): ModelInfo | undefined {
    return this.#models.find((m) => m.name === name);
  }

  start(): () => void {
    this.#stopped = false;
    void this.refresh();
    return () => {
      this.#stopped = true;
      clearTimeout(this.#timer);
    };
  }

  async refresh(): Promise<void> {
    clearTimeout(this.#timer);
    try {
      const [m, s] = await Promise.all([this.#client.request<{ models: ModelInfo[] }>(MODELS), this.#client.request<{ status: ServerStatus }>(STATUS)]);
      this.#models = [...m.models].sort((a, b) => b.twinCount - a.twinCount || a.name.localeCompare(b.name));
      this.#status = s.status;
      this.#error = null;
      this.#loaded = true;
    } catch (e) {
      this.#error = e instanceof RequestError ? e.message : String(e);
    }
    if (!this.#stopped) this.#timer = setTimeout(() => void this.refresh(), REFRESH_MS);
  }
}
