/**
 * Collects changes to a GeoJSON source between two frames and hands them to MapLibre as one
 * `updateData` diff, so a stream of thousands of twin changes per second costs one worker
 * round-trip per frame instead of a full `setData`. Features are keyed by numeric id.
 */
import type { Feature, Geometry, GeoJsonProperties } from 'geojson';
import type { GeoJSONSourceDiff } from 'maplibre-gl';

type Pending = { kind: 'upsert'; feature: Feature<Geometry> } | { kind: 'remove' };

export class FeatureDiff {
  /** ids the source holds after the last flush, with the properties it holds for them */
  #live = new Map<number, GeoJsonProperties>();
  #pending = new Map<number, Pending>();

  get size(): number {
    return this.#live.size;
  }

  get hasChanges(): boolean {
    return this.#pending.size > 0;
  }

  upsert(id: number, geometry: Geometry, properties: GeoJsonProperties): void {
    this.#pending.set(id, { kind: 'upsert', feature: { type: 'Feature', id, geometry, properties } });
  }

  remove(id: number): void {
    if (this.#live.has(id)) this.#pending.set(id, { kind: 'remove' });
    else this.#pending.delete(id);
  }

  /** Forgets everything: the next flush removes all features the source holds. */
  clear(): void {
    this.#pending.clear();
    for (const id of this.#live.keys()) this.#pending.set(id, { kind: 'remove' });
  }

  /** The diff since the last flush (null when nothing changed); the source is assumed to apply it. */
  flush(): GeoJSONSourceDiff | null {
    if (this.#pending.size === 0) return null;
    const add: Feature<Geometry>[] = [];
    const update: NonNullable<GeoJSONSourceDiff['update']> = [];
    const remove: number[] = [];
    for (const [id, p] of this.#pending) {
      if (p.kind === 'remove') {
        remove.push(id);
        this.#live.delete(id);
      } else if (this.#live.has(id)) {
        const before = this.#live.get(id) ?? {};
        const after = p.feature.properties ?? {};
        // name the keys that went away rather than clearing all: a feature never lacks its styling keys
        const gone = Object.keys(before).filter((k) => !(k in after));
        update.push({
          id,
          newGeometry: p.feature.geometry,
          ...(gone.length ? { removeProperties: gone } : {}),
          addOrUpdateProperties: Object.entries(after).map(([key, value]) => ({ key, value })),
        });
        this.#live.set(id, after);
      } else {
        add.push(p.feature);
        this.#live.set(id, p.feature.properties);
      }
    }
    this.#pending.clear();
    const diff: GeoJSONSourceDiff = {};
    if (remove.length) diff.remove = remove;
    if (add.length) diff.add = add;
    if (update.length) diff.update = update;
    return diff;
  }
}
