/**
 * Decides which `twinChanges` continuous queries feed the map, per model:
 * - a model with few twins streams all of them;
 * - a large model streams only the twins its model declares alerting (`Twin.level`), plus every twin
 *   inside the viewport once the map is zoomed in close; the rest shows as hexagon density.
 * So 100k twins changing every second cost the browser only what is on screen and what matters.
 */
import type { GraphQLClient } from '../graphql/client.svelte.ts';
import { TWIN_CHANGES } from '../graphql/operations.ts';
import type { MapTwinChange, ModelInfo, TwinFilter } from '../graphql/types.ts';
import { ALERTING_FILTER } from '../util/severity.ts';
import { Reason, type TwinIndex } from './twin-index.svelte.ts';
import { snapBbox, type Bbox } from '../util/bbox.ts';

/** above this many twins a model switches to "alerting + viewport" */
export const LARGE_MODEL = 10_000;
/** and back below this many (hysteresis, so a model near the limit does not flap) */
const SMALL_AGAIN = 8_000;
/** a twin's changes reach the map at most this often (the map draws them twice a second anyway) */
const STREAM_THROTTLE_MS = 500;
/** from this zoom on, a large model streams every twin in view */
export const DETAIL_ZOOM = 10;

interface ModelStream {
  large: boolean;
  /** running streams by their filter, as JSON */
  streams: Map<string, () => void>;
}

/** how long a replaced viewport stream lingers, so twins in both views do not blink */
const HANDOVER_MS = 1_500;

export class TwinStreams {
  #client: GraphQLClient;
  #index: TwinIndex;
  #streams = new Map<string, ModelStream>();
  #viewport: { bbox: Bbox; zoom: number } | null = null;
  /** the twin ids each running stream brought, with its model */
  #owners = new Map<Set<string>, string>();
  #largeModels = $state.raw<string[]>([]);

  constructor(client: GraphQLClient, index: TwinIndex) {
    this.#client = client;
    this.#index = index;
  }

  /** models shown as alerting twins + density rather than every twin */
  get largeModels(): string[] {
    return this.#largeModels;
  }

  /** Brings the subscriptions in line with the server's models (called when the catalog refreshes). */
  syncModels(models: readonly ModelInfo[]): void {
    const names = new Set(models.map((m) => m.name));
    for (const [name, s] of this.#streams) {
      if (!names.has(name)) {
        for (const stop of s.streams.values()) stop();
        this.#streams.delete(name);
        this.#index.releaseModel(name, Reason.Stream);
      }
    }
    for (const m of models) {
      const s = this.#streams.get(m.name);
      const large = s ? (s.large ? m.twinCount >= SMALL_AGAIN : m.twinCount > LARGE_MODEL) : m.twinCount > LARGE_MODEL;
      this.#subscribe(m, large);
    }
    this.#largeModels = [...this.#streams].filter(([, s]) => s.large).map(([n]) => n);
  }

  /** The map moved: large models re-target their viewport stream. */
  setViewport(bbox: Bbox, zoom: number, models: readonly ModelInfo[]): void {
    this.#viewport = { bbox, zoom };
    for (const m of models) {
      const s = this.#streams.get(m.name);
      if (s?.large) this.#subscribe(m, true);
    }
  }

  stop(): void {
    for (const [name, s] of this.#streams) {
      for (const stop of s.streams.values()) stop();
      this.#index.releaseModel(name, Reason.Stream);
    }
    this.#streams.clear();
  }

  #subscribe(model: ModelInfo, large: boolean): void {
    const filters = large ? this.#largeFilters() : [null];
    // a large model's changes come without state: at 100k twins the states of the twins entering
    // and leaving the alerting set were megabytes of JSON a second to parse on the main thread
    const withState = !large;
    let entry = this.#streams.get(model.name);
    if (!entry) {
      entry = { large, streams: new Map() };
      this.#streams.set(model.name, entry);
    }
    entry.large = large;
    const wanted = new Map(filters.map((f) => [JSON.stringify({ f, withState }), f] as const));
    for (const [sig, stop] of entry.streams) {
      if (wanted.has(sig)) continue;
      entry.streams.delete(sig);
      setTimeout(stop, HANDOVER_MS);
    }
    for (const [sig, where] of wanted) {
      if (!entry.streams.has(sig)) entry.streams.set(sig, this.#stream(model.name, where, withState));
    }
  }

  #largeFilters(): (TwinFilter | null)[] {
    // the twins whose model declares them alerting, whatever the model's own field names
    const out: (TwinFilter | null)[] = [ALERTING_FILTER];
    const v = this.#viewport;
    if (v && v.zoom >= DETAIL_ZOOM) out.push({ within: { bbox: snapBbox(v.bbox) } });
    return out;
  }

  #stream(model: string, where: TwinFilter | null, withState: boolean): () => void {
    // Each stream remembers which twins it brought, so two streams of one model (alerting and
    // viewport) can overlap without one's LEAVE hiding a twin the other still shows.
    const mine = new Set<string>();
    const index = this.#index;
    const leave = (id: string): void => {
      if (!mine.delete(id)) return;
      if (!this.#heldByOtherStream(model, id, mine)) index.release(model, id, Reason.Stream);
    };
    const stopSub = this.#client.subscribe<{ twinChanges: MapTwinChange }>(
      TWIN_CHANGES,
      { model, where, throttleMs: STREAM_THROTTLE_MS, withState },
      {
        next: ({ twinChanges: c }) => {
          if (c.kind === 'LEAVE' || !c.twin) leave(c.id);
          else {
            mine.add(c.id);
            index.upsert(c.twin, Reason.Stream);
          }
        },
        restart: () => {
          for (const id of [...mine]) leave(id);
        },
      },
    );
    this.#owners.set(mine, model);
    return () => {
      stopSub();
      this.#owners.delete(mine);
      for (const id of [...mine]) leave(id);
    };
  }

  #heldByOtherStream(model: string, id: string, except: Set<string>): boolean {
    for (const [set, m] of this.#owners) if (m === model && set !== except && set.has(id)) return true;
    return false;
  }
}
