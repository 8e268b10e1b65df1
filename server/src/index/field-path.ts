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

/** One step of a path: own properties of objects, numeric indexes of arrays. */
function stepOwn(v: unknown, key: string): unknown {
  if (v === null || typeof v !== 'object') return undefined;
  if (Array.isArray(v)) return /^\d+$/.test(key) ? v[Number(key)] : undefined;
  return Object.prototype.hasOwnProperty.call(v, key) ? (v as Record<string, unknown>)[key] : undefined;
}

/**
 * The same step, faster, for keys no prototype has (the common case): a plain property read.
 * Keys like "constructor" or "length" take the careful path above.
 */
function stepper(key: string): (v: unknown) => unknown {
  if (key in Object.prototype || key in Array.prototype || /^\d+$/.test(key)) return (v) => stepOwn(v, key);
  return (v) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined);
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
    const steps = parts.map(stepper);
    if (steps.length === 1) {
      const a = steps[0]!;
      g = (t) => a(t.state);
    } else if (steps.length === 2) {
      const [a, b] = steps as [(v: unknown) => unknown, (v: unknown) => unknown];
      g = (t) => b(a(t.state));
    } else {
      g = (t) => {
        let v: unknown = t.state;
        for (let i = 0; i < steps.length && v !== undefined; i++) v = steps[i]!(v);
        return v;
      };
    }
  }
  if (cache.size < 10_000) cache.set(path, g);
  return g;
}
