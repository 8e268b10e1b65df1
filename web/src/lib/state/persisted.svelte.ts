/**
 * A value kept in localStorage: reads once, writes on every change. Falls back to memory when
 * storage is unavailable (private mode, quota) so the dashboard still works, just forgetfully.
 */
export class Persisted<T> {
  #key: string;
  #value = $state() as T;

  constructor(key: string, fallback: T, validate: (raw: unknown) => raw is T = (_raw): _raw is T => true) {
    this.#key = key;
    this.#value = read(key, fallback, validate);
  }

  get current(): T {
    return this.#value;
  }

  set current(value: T) {
    this.#value = value;
    try {
      if (value === null || value === undefined) localStorage.removeItem(this.#key);
      else localStorage.setItem(this.#key, JSON.stringify(value));
    } catch {
      // storage full or blocked: keep the value in memory for this session
    }
  }
}

function read<T>(key: string, fallback: T, validate: (raw: unknown) => raw is T): T {
  try {
    const raw = localStorage.getItem(key);
    if (raw === null) return fallback;
    const parsed: unknown = JSON.parse(raw);
    return validate(parsed) ? parsed : fallback;
  } catch {
    return fallback;
  }
}
