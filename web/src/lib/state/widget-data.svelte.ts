/**
 * The data behind one chart widget: its `aggregate` subscription (model, metric, group-by,
 * filter), the latest groups as a snapshot, and for line and area charts the values over time.
 * The widget component only draws what this holds, when `start`'s `draw` callback says so.
 */
import type { GraphQLClient } from '../graphql/client.svelte.ts';
import { AGGREGATE } from '../graphql/operations.ts';
import type { Group, MetricInput } from '../graphql/types.ts';
import { toTwinFilter } from '../util/filter-builder.ts';
import { History, snapshot, type Snapshot } from '../util/series.ts';
import { onBeat } from '../util/beat.ts';
import type { WidgetDef } from './widgets.svelte.ts';

/** how many groups a chart shows at most */
export const MAX_GROUPS = 12;
/** points kept for line and area charts: 5 minutes at one push a second */
const HISTORY = 300;
/** a line or area chart takes a point this often */
const SAMPLE_MS = 1_000;

export class WidgetData {
  readonly def: WidgetDef;
  readonly count: boolean;
  readonly timeSeries: boolean;
  readonly history = new History(HISTORY);
  #client: GraphQLClient;
  #current: Snapshot | null = null;
  #headline = $state<number | null>(null);
  #error = $state<string | null>(null);

  constructor(client: GraphQLClient, def: WidgetDef) {
    this.#client = client;
    this.def = def;
    this.count = def.op === 'COUNT' || !def.field;
    this.timeSeries = def.chart === 'line' || def.chart === 'area';
  }

  /** the latest groups, largest first (at most MAX_GROUPS); null before the first push */
  get current(): Snapshot | null {
    return this.#current;
  }
  /** the one number the widget shows big: the twin count, or the metric when there is one group */
  get headline(): number | null {
    return this.#headline;
  }
  get error(): string | null {
    return this.#error;
  }

  /**
   * Subscribes; `draw` runs on the shared UI beat (in the same frame as the map and the feed)
   * whenever there is something new to draw. Returns the stop.
   */
  start(draw: () => void): () => void {
    const def = this.def;
    const metrics: MetricInput[] = this.count ? [{ op: 'COUNT' }] : [{ op: def.op, field: def.field ?? undefined }];
    const where = def.filter ? toTwinFilter(def.filter) : null;
    let latest: Group[] | null = null;
    let stopped = false;
    const apply = (): void => {
      if (stopped) return;
      const aggregate = latest;
      latest = null;
      if (aggregate) {
        this.#current = snapshot(aggregate, this.count, MAX_GROUPS);
        this.#headline = this.count ? aggregate.reduce((n, g) => n + g.count, 0) : aggregate.length === 1 ? (this.#current.values[0] ?? null) : null;
      }
      if (this.#current) draw();
    };
    // The server pushes only when a value changed: a line chart samples the latest value every
    // second, so a steady value still draws a line and the time axis runs evenly.
    const sampler = this.timeSeries
      ? setInterval(() => {
          if (latest) this.#current = snapshot(latest, this.count, MAX_GROUPS);
          if (!this.#current) return;
          this.history.push(Date.now(), this.#current);
          onBeat(apply);
        }, SAMPLE_MS)
      : undefined;
    const stop = this.#client.subscribe<{ aggregate: Group[] }>(
      AGGREGATE,
      { model: def.model, where, groupBy: def.groupBy, metrics, everyMs: 1000 },
      {
        next: ({ aggregate }) => {
          latest = aggregate;
          onBeat(apply);
        },
        error: (e) => {
          this.#error = e.message;
        },
      },
    );
    return () => {
      stopped = true;
      clearInterval(sampler);
      stop();
    };
  }
}
