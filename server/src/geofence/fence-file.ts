/**
 * Fences on disk: GEOFENCES_FILE (read at start; a JSON array of fences, `{"fences": [...]}`, or
 * a GeoJSON FeatureCollection whose features carry `name`, `model`, `dwellMs`, `alarm` in their
 * properties, a Point with `radiusM` being a circle) and the fences created over GraphQL,
 * kept in DATA_DIR/geofences.json (written whole to a temporary file, then renamed into place).
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { HextwinError } from '@hextwin/shared';
import { parseGeofence, type GeofenceSpec } from './fence.js';

/** A GeoJSON Feature as a fence input: its properties, with the geometry as the shape. */
function fromFeature(f: Record<string, unknown>): unknown {
  const props = (f.properties ?? {}) as Record<string, unknown>;
  const g = f.geometry as { type?: string; coordinates?: unknown } | null;
  if (g?.type === 'Point') return { ...props, shape: { center: g.coordinates, radiusM: props.radiusM } };
  return { ...props, shape: g };
}

/** The fences of a GEOFENCES_FILE document; throws GEOFENCE_INVALID naming the file and entry. */
export function parseFenceDocument(doc: unknown, file: string): GeofenceSpec[] {
  const o = doc as Record<string, unknown> | unknown[] | null;
  let entries: unknown[];
  if (Array.isArray(o)) entries = o;
  else if (o && o.type === 'FeatureCollection' && Array.isArray(o.features)) entries = (o.features as Record<string, unknown>[]).map(fromFeature);
  else if (o && Array.isArray(o.fences)) entries = o.fences as unknown[];
  else throw new HextwinError('GEOFENCE_INVALID', `${file}: expected an array of fences, {"fences": [...]} or a GeoJSON FeatureCollection`);
  const seen = new Set<string>();
  return entries.map((e, i) => {
    const spec = parseGeofence(e, `${file} entry ${i}`);
    if (seen.has(spec.name)) throw new HextwinError('GEOFENCE_INVALID', `${file} entry ${i}: a second fence named ${JSON.stringify(spec.name)}`);
    seen.add(spec.name);
    return spec;
  });
}

export function readFenceFile(file: string): GeofenceSpec[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new HextwinError('CONFIG_INVALID', `GEOFENCES_FILE ${file} cannot be read: ${(e as Error).message}`, { cause: e });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new HextwinError('GEOFENCE_INVALID', `${file} is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
  return parseFenceDocument(doc, file);
}

/** What DATA_DIR/geofences.json holds for each fence created over GraphQL. */
export interface StoredFence extends GeofenceSpec {
  updatedAt: number;
}

export class StoredFences {
  readonly file: string;
  private writing: Promise<void> = Promise.resolve();

  constructor(dataDir: string) {
    this.file = path.join(dataDir, 'geofences.json');
  }

  load(): StoredFence[] {
    if (!existsSync(this.file)) return [];
    const doc = JSON.parse(readFileSync(this.file, 'utf8')) as { fences?: StoredFence[] };
    return (doc.fences ?? []).map((f, i) => ({ ...parseGeofence(f, `${this.file} entry ${i}`), updatedAt: f.updatedAt }));
  }

  /** Write the whole list; writes queue up, so the file always ends as the last call asked. */
  save(fences: StoredFence[]): Promise<void> {
    const body = JSON.stringify({ v: 1, fences }, null, 1);
    const tmp = this.file + '.tmp';
    this.writing = this.writing
      .catch(() => undefined)
      .then(async () => {
        await mkdir(path.dirname(this.file), { recursive: true });
        await writeFile(tmp, body);
        await rename(tmp, this.file);
      });
    return this.writing;
  }
}
