/**
 * The operator's API key: remembered in localStorage when asked to, otherwise kept for this tab only.
 * A link `…/#token=<key>` (the server prints one at start when it runs on its generated admin token)
 * signs this tab in; the fragment never reaches the server and is removed from the address bar.
 */
import { Persisted } from './persisted.svelte.ts';

const isKey = (v: unknown): v is string | null => v === null || typeof v === 'string';

export class ApiKey {
  #remembered = new Persisted<string | null>('hextwin.apiKey', null, isKey);
  #session = $state<string | null>(fromFragment());

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

function fromFragment(): string | null {
  if (typeof location === 'undefined') return null;
  const token = new URLSearchParams(location.hash.slice(1)).get('token');
  if (!token) return null;
  history.replaceState(null, '', location.pathname + location.search);
  return token;
}
