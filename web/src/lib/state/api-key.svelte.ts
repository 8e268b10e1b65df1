/** The operator's API key: remembered in localStorage when asked to, otherwise kept for this tab only. */
import { Persisted } from './persisted.svelte.ts';

const isKey = (v: unknown): v is string | null => v === null || typeof v === 'string';

export class ApiKey {
  #remembered = new Persisted<string | null>('hextwin.apiKey', null, isKey);
  #session = $state<string | null>(null);

  get current(): string | null {
    return this.#session ?? this.#remembered.current;
  }

  set(key: string, remember: boolean): void {
    this.#session = key;
    this.#remembered.current = remember ? key : null;
  }

  clear(): void {
    this.#session = null;
    this.#remembered.current = null;
  }
}
