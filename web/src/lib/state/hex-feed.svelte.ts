/**
 * The hexagon bins behind the map's hexagon layer: one `hexAggregate` subscription for a model,
 * resolution and metric, its latest push handed to the layer on the map beat (in the same
 * update as the twins). The layer component only draws the bins.
 */
import type { GraphQLClient } from '../graphql/client.svelte.ts';
import { HEX_AGGREGATE } from '../graphql/operations.ts';
import type { HexBin, MetricInput } from '../graphql/types.ts';
import { mapPacer } from '../map/map-beat.ts';

export interface HexFeedSpec {
  model: string;
  resolution: number;
  metrics: MetricInput[];
}

/** how often the server recomputes and pushes changed bins */
const EVERY_MS = 1_000;

export class HexFeed {
  #client: GraphQLClient;
  #error = $state<string | null>(null);
  #pushes = $state(0);

  constructor(client: GraphQLClient) {
    this.#client = client;
  }

  /** why the last subscription failed, if it did */
  get error(): string | null {
    return this.#error;
  }
  /** pushes applied so far */
  get pushes(): number {
    return this.#pushes;
  }

  /** Subscribes for `spec`; `apply` gets the latest bins at most once a beat. Returns the stop. */
  follow(spec: HexFeedSpec, apply: (bins: HexBin[]) => void): () => void {
    let latest: HexBin[] | null = null;
    let stopped = false;
    this.#error = null;
    const applyLatest = (): void => {
      const bins = latest;
      latest = null;
      if (!bins || stopped) return;
      apply(bins);
      this.#pushes += 1;
    };
    const stop = this.#client.subscribe<{ hexAggregate: HexBin[] }>(
      HEX_AGGREGATE,
      { model: spec.model, resolution: spec.resolution, metrics: spec.metrics, everyMs: EVERY_MS },
      {
        next: ({ hexAggregate }) => {
          latest = hexAggregate;
          mapPacer().schedule(applyLatest);
        },
        error: (e) => {
          this.#error = e.message;
        },
      },
    );
    return () => {
      stopped = true;
      stop();
    };
  }
}
