/**
 * The twins the map shows as points, fed by `twinChanges` subscriptions and by the alert feed
 * (a twin with an open alert stays on the map even when no subscription streams it).
 * Plain Maps hold the twins — never Svelte state, which would proxy 100k objects — and a
 * FeatureDiff turns changes into one MapLibre `updateData` per flush. Only the per-level counts
 * are reactive.
 */
import type { Point } from 'geojson';
import type { GeoJSONSourceDiff } from 'maplibre-gl';
import type { MapTwin } from '../graphql/types.ts';
import { FeatureDiff } from '../map/feature-diff.ts';
import { twinLevel, type Level } from '../util/severity.ts';
import { twinKey } from './selection.svelte.ts';

/** why a twin is on the map; it leaves once no reason is left */
export const Reason = { Stream: 1, Alert: 2 } as const;
export type Reason = (typeof Reason)[keyof typeof Reason];

export interface TwinEntry {
  key: string;
  fid: number;
  twin: MapTwin;
  reasons: number;
  level: Level;
}

export class TwinIndex {
  #entries = new Map<string, TwinEntry>();
  #byFid = new Map<number, TwinEntry>();
  #fids = new Map<string, number>();
  #nextFid = 1;
  #alertLevels = new Map<string, Level>();
  #diff = new FeatureDiff();
  #counts = $state.raw<readonly number[]>([0, 0, 0, 0, 0]);
  #listeners = new Set<() => void>();

  /** located twins on the map, by level (0 normal … 4 critical) */
  get counts(): readonly number[] {
    return this.#counts;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(key: string): TwinEntry | undefined {
    return this.#entries.get(key);
  }

  byFeatureId(fid: number): TwinEntry | undefined {
    return this.#byFid.get(fid);
  }

  /** Called (at most once per change burst) when something waits to be flushed. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  upsert(twin: MapTwin, reason: Reason): void {
    const key = twinKey(twin.model, twin.id);
    let e = this.#entries.get(key);
    if (!e) {
      const fid = this.#fidOf(key);
      e = { key, fid, twin, reasons: 0, level: 0 };
      this.#entries.set(key, e);
      this.#byFid.set(fid, e);
    }
    e.twin = twin;
    e.reasons |= reason;
    this.#render(e);
  }

  /** Adds a reason to show a twin already on the map, keeping its state; false when it is not there. */
  hold(model: string, id: string, reason: Reason): boolean {
    const e = this.#entries.get(twinKey(model, id));
    if (!e) return false;
    e.reasons |= reason;
    return true;
  }

  /** Drops one reason for a twin being shown; it leaves the map when none is left. */
  release(model: string, id: string, reason: Reason): void {
    const e = this.#entries.get(twinKey(model, id));
    if (!e) return;
    e.reasons &= ~reason;
    if (e.reasons === 0) this.#drop(e);
  }

  /** Drops the stream reason from every twin of a model (its subscription restarted or changed). */
  releaseModel(model: string, reason: Reason): void {
    for (const e of [...this.#entries.values()]) {
      if (e.twin.model === model && e.reasons & reason) {
        e.reasons &= ~reason;
        if (e.reasons === 0) this.#drop(e);
      }
    }
  }

  /** The highest severity among a twin's open alerts (0 when none), which colours it too. */
  setAlertLevel(model: string, id: string, level: Level): void {
    const key = twinKey(model, id);
    if (level === 0) this.#alertLevels.delete(key);
    else this.#alertLevels.set(key, level);
    const e = this.#entries.get(key);
    if (e) this.#render(e);
  }

  /** The changes since the last flush, as one MapLibre diff. */
  flush(): GeoJSONSourceDiff | null {
    const diff = this.#diff.flush();
    if (diff) {
      const counts = [0, 0, 0, 0, 0];
      for (const e of this.#entries.values()) if (e.twin.lat !== null && e.twin.lng !== null) counts[e.level]! += 1;
      this.#counts = counts;
    }
    return diff;
  }

  #render(e: TwinEntry): void {
    const { lat, lng } = e.twin;
    e.level = Math.max(twinLevel(e.twin.level), this.#alertLevels.get(e.key) ?? 0) as Level;
    if (lat === null || lng === null || !Number.isFinite(lat) || !Number.isFinite(lng)) {
      this.#diff.remove(e.fid);
    } else {
      const geometry: Point = { type: 'Point', coordinates: [lng, lat] };
      this.#diff.upsert(e.fid, geometry, { level: e.level, model: e.twin.model });
    }
    this.#changed();
  }

  #drop(e: TwinEntry): void {
    this.#entries.delete(e.key);
    this.#byFid.delete(e.fid);
    this.#diff.remove(e.fid);
    this.#changed();
  }

  #fidOf(key: string): number {
    let fid = this.#fids.get(key);
    if (fid === undefined) {
      fid = this.#nextFid++;
      this.#fids.set(key, fid);
    }
    return fid;
  }

  #changed(): void {
    for (const l of this.#listeners) l();
  }
}
