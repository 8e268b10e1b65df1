/**
 * The state fields seen on a model's twins, with the JSON types seen for each, for `models { fields }`.
 * Twins are sampled (every new twin, then one update in eight), so keeping the catalog costs ingest
 * almost nothing; fields declared in the model's stateSchema are listed from the start.
 */
const MAX_FIELDS = 500;
const MAX_DEPTH = 3;

export type JsonType = 'number' | 'string' | 'boolean' | 'object' | 'array' | 'null';

function typeOf(v: unknown): JsonType | undefined {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  switch (typeof v) {
    case 'number':
    case 'string':
    case 'boolean':
    case 'object':
      return typeof v as JsonType;
    default:
      return undefined;
  }
}

export class FieldCatalog {
  private readonly fields = new Map<string, Set<JsonType>>();

  /** Record the fields of one state (nested objects as dotted paths, arrays not entered). */
  observe(state: unknown): void {
    if (state !== null && typeof state === 'object' && !Array.isArray(state)) this.walk(state as Record<string, unknown>, '', 1);
  }

  private walk(obj: Record<string, unknown>, prefix: string, depth: number): void {
    for (const k in obj) {
      const v = obj[k];
      const t = typeOf(v);
      if (!t) continue;
      const path = prefix + k;
      this.add(path, t);
      if (t === 'object' && depth < MAX_DEPTH) this.walk(v as Record<string, unknown>, path + '.', depth + 1);
    }
  }

  /** Record a field's type directly (from a declared schema). */
  add(path: string, t: JsonType): void {
    let set = this.fields.get(path);
    if (!set) {
      if (this.fields.size >= MAX_FIELDS) return;
      set = new Set();
      this.fields.set(path, set);
    }
    set.add(t);
  }

  /** Learn fields from a JSON Schema's `properties` (nested objects included). */
  addSchema(schema: unknown, prefix = '', depth = 1): void {
    const props = (schema as { properties?: Record<string, unknown> } | null)?.properties;
    if (!props || typeof props !== 'object') return;
    for (const [k, sub] of Object.entries(props)) {
      const declared = (sub as { type?: unknown } | null)?.type;
      const types = (Array.isArray(declared) ? declared : [declared]).map((t) => (t === 'integer' ? 'number' : t));
      for (const t of types) if (['number', 'string', 'boolean', 'object', 'array', 'null'].includes(t as string)) this.add(prefix + k, t as JsonType);
      if (depth < MAX_DEPTH) this.addSchema(sub, prefix + k + '.', depth + 1);
    }
  }

  /** Fields by name; a field seen with several types lists them joined by `|` (e.g. `null|number`). */
  list(): { name: string; type: string }[] {
    return [...this.fields]
      .map(([name, types]) => ({ name, type: [...types].sort().join('|') }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
}
