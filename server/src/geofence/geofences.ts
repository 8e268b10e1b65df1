/**
 * The geofences of this server: the fences of GEOFENCES_FILE and those created over GraphQL
 * (kept in DATA_DIR), the tracker that turns twin moves into ENTER / EXIT / DWELL, and the
 * listeners of those events (the GraphQL subscription; the feature adds sinks and alarms).
 */
import { HextwinError } from '@hextwin/shared';
import type { Logger } from 'pino';
import { EventHub } from '../engine/event-hub.js';
import type { EngineApi } from '../engine/types.js';
import { compileFence, parseGeofence, type Fence, type GeofenceSpec } from './fence.js';
import { readFenceFile, StoredFences, type StoredFence } from './fence-file.js';
import { FenceTracker, type FenceEvent } from './tracker.js';

export const MAX_GEOFENCES = 100_000;

export interface GeofencesOptions {
  file: string | undefined;
  dataDir: string;
  logger: Logger;
}

export class Geofences {
  readonly tracker: FenceTracker;
  private readonly hub: EventHub<{ event: FenceEvent }>;
  private readonly stored: StoredFences;

  constructor(
    private readonly engine: EngineApi,
    private readonly opts: GeofencesOptions,
  ) {
    this.hub = new EventHub((err) => opts.logger.error({ err }, 'a geofence event listener threw'));
    this.tracker = new FenceTracker(
      {
        now: () => engine.now(),
        wakeAt: (at, fn) => (engine.wakeAt ? engine.wakeAt(at, fn) : timeoutAt(at - engine.now(), fn)),
      },
      (e) => this.hub.emit('event', e),
    );
    this.stored = new StoredFences(opts.dataDir);
  }

  /** Read GEOFENCES_FILE and DATA_DIR's fences (no twin is known yet: no events). */
  load(): void {
    const now = this.engine.now();
    const fromFile = this.opts.file ? readFenceFile(this.opts.file) : [];
    for (const spec of fromFile) this.tracker.put(compileFence(spec, 'file', now), [], true);
    let kept = 0;
    for (const s of this.stored.load()) {
      if (this.tracker.fence(s.name)) {
        this.opts.logger.warn({ fence: s.name }, 'a fence created over GraphQL has the name of one in GEOFENCES_FILE; the file wins');
        continue;
      }
      this.tracker.put(compileFence(s, 'api', s.updatedAt), [], true);
      kept++;
    }
    for (const f of this.tracker.list())
      if (f.model !== null && !this.engine.hasModel(f.model))
        this.opts.logger.warn({ fence: f.name, model: f.model }, 'a geofence names a model that is not loaded');
    if (fromFile.length + kept > 0) this.opts.logger.info({ file: fromFile.length, api: kept }, 'geofences loaded');
  }

  on(listener: (e: FenceEvent) => void): () => void {
    return this.hub.on('event', listener);
  }

  /** Fences for `model` (its own and those for every model); every fence without it. */
  list(model?: string | null): Fence[] {
    const all = this.tracker.list();
    return model == null ? all : all.filter((f) => f.model === null || f.model === model);
  }

  /** Create or replace a fence; twins now inside ENTER, twins no longer inside EXIT. */
  async put(input: unknown): Promise<Fence> {
    const spec = parseGeofence(input);
    if (spec.model !== null && !this.engine.hasModel(spec.model)) throw new HextwinError('UNKNOWN_MODEL', `no model named ${JSON.stringify(spec.model)}`);
    const old = this.tracker.fence(spec.name);
    if (old?.origin === 'file') throw fileFence(spec.name);
    if (!old && this.tracker.count >= MAX_GEOFENCES) throw new HextwinError('GEOFENCE_INVALID', `at most ${MAX_GEOFENCES} geofences`);
    const fence = compileFence(spec, 'api', this.engine.now());
    this.tracker.put(fence, this.twinsIn(spec.model));
    await this.save();
    return fence;
  }

  /** Remove a fence created over GraphQL; twins inside EXIT. False when there is none of that name. */
  async remove(name: string): Promise<boolean> {
    const f = this.tracker.fence(name);
    if (!f) return false;
    if (f.origin === 'file') throw fileFence(name);
    this.tracker.remove(name);
    await this.save();
    return true;
  }

  private *twinsIn(model: string | null): Iterable<{ model: string; id: string; lat: number | undefined; lng: number | undefined }> {
    const models = model === null ? this.engine.models().map((m) => m.name) : [model];
    for (const m of models) yield* this.engine.twins(m);
  }

  private save(): Promise<void> {
    const api: StoredFence[] = this.tracker
      .list()
      .filter((f) => f.origin === 'api')
      .map((f) => ({ ...specOf(f), updatedAt: f.updatedAt }));
    return this.stored.save(api);
  }
}

const specOf = (f: Fence): GeofenceSpec => ({ name: f.name, model: f.model, shape: f.shape, dwellMs: f.dwellMs, alarm: f.alarm });

const fileFence = (name: string) =>
  new HextwinError('GEOFENCE_INVALID', `the fence ${JSON.stringify(name)} comes from GEOFENCES_FILE: change it there (fences from the file are read-only)`);

/** Without an engine clock to wait on (never on the engines here), wall-clock time. */
function timeoutAt(ms: number, fn: () => void): () => void {
  const t = setTimeout(fn, Math.max(0, ms));
  t.unref();
  return () => clearTimeout(t);
}
