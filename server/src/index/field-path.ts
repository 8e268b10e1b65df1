/**
 * Dotted field paths into a twin's state ("alertLevel", "driver.name", "incidents.0.condition"),
 * compiled once into getters. Paths starting with `$` read the twin itself rather than its state:
 * `$id`, `$model`, `$createdAt`, `$updatedAt`, `$lat`, `$lng`.
 */
import { HextwinError } from '@hextwin/shared';
import type { TwinView } from '../engine/types.js';

/** Reads one value from a twin; `undefined` when the path does not exist. */
export type FieldGetter = (twin: TwinView) => unknown;

const META: Record<string, FieldGetter> = {
  $id: (t) => t.id,
  $model: (t) => t.model,
  $createdAt: (t) => t.createdAt,
  $updatedAt: (t) => t.updatedAt,
  $lat: (t) => t.lat,
  $lng: (t) => t.lng,
};

const cache = new Map<string, FieldGetter>();

function step(v: unknown, key: string): unknown {
  if (v === null || typeof v !== 'object') return undefined;
  if (Array.isArray(v)) {
    if (!/^\d+$/.test(key)) return undefined;
    return v[Number(key)];
  }
  return Object.prototype.hasOwnProperty.call(v, key) ? (v as Record<string, unknown>)[key] : undefined;
}

/** Compile a path; throws INVALID_FILTER for an empty path or segment. */
export function fieldGetter(path: string): FieldGetter {
  const hit = cache.get(path);
  if (hit) return hit;
  let g: FieldGetter;
  if (path.startsWith('$')) {
    const meta = META[path];
    if (!meta) throw new HextwinError('INVALID_FILTER', `unknown twin field ${JSON.stringify(path)}; known: ${Object.keys(META).join(', ')}`);
    g = meta;
  } else {
    const parts = path.split('.');
    if (path.length === 0 || path.length > 512 || parts.some((p) => p.length === 0)) {
      throw new HextwinError('INVALID_FILTER', `field path ${JSON.stringify(path)} is not a dotted path like "driver.name"`);
    }
    if (parts.length === 1) {
      const k = parts[0]!;
      g = (t) => step(t.state, k);
    } else if (parts.length === 2) {
      const [a, b] = parts as [string, string];
      g = (t) => step(step(t.state, a), b);
    } else {
      g = (t) => {
        let v: unknown = t.state;
        for (let i = 0; i < parts.length && v !== undefined; i++) v = step(v, parts[i]!);
        return v;
      };
    }
  }
  if (cache.size < 10_000) cache.set(path, g);
  return g;
}
