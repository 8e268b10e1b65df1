/**
 * The query builder: a model, a tree of AND/OR conditions, and its results — once through the
 * `twins` query, or continuously through a `twinChanges` subscription that keeps the table and
 * the map's result layer current.
 */
import type { GraphQLClient } from '../graphql/client.svelte.ts';
import { TWINS, TWIN_CHANGES } from '../graphql/operations.ts';
import type { TwinChange, TwinConnection, TwinFilter, TwinSummary } from '../graphql/types.ts';
import { emptyGroup, toTwinFilter, type ConditionGroup } from '../util/filter-builder.ts';
import { onBeat } from '../util/beat.ts';

/** rows the table and the map hold at most */
export const RESULT_LIMIT = 1_000;

export class QueryState {
  #client: GraphQLClient;
  model = $state('');
  root = $state<ConditionGroup>(emptyGroup('and'));
  #continuous = $state(false);
  #results = $state.raw<TwinSummary[]>([]);
  #total = $state<number | null>(null);
  #running = $state(false);
  #error = $state<string | null>(null);
  #ranFilter = $state.raw<TwinFilter | null>(null);
  #stop: (() => void) | undefined;
  #live = new Map<string, TwinSummary>();

  constructor(client: GraphQLClient) {
    this.#client = client;
  }

  get continuous(): boolean {
    return this.#continuous;
  }
  get results(): TwinSummary[] {
    return this.#results;
  }
  get total(): number | null {
    return this.#total;
  }
  get running(): boolean {
    return this.#running;
  }
  get error(): string | null {
    return this.#error;
  }
  get filter(): TwinFilter | null {
    return toTwinFilter(this.root);
  }
  /** the filter of the results on show */
  get ranFilter(): TwinFilter | null {
    return this.#ranFilter;
  }

  async run(): Promise<void> {
    this.#stopContinuous();
    if (!this.model) return;
    const where = this.filter;
    this.#running = true;
    this.#error = null;
    this.#ranFilter = where;
    try {
      const { twins } = await this.#client.request<{ twins: TwinConnection }>(TWINS, { model: this.model, where, first: RESULT_LIMIT });
      this.#results = twins.edges.map((e) => e.node);
      this.#total = twins.totalCount;
    } catch (e) {
      this.#error = e instanceof Error ? e.message : String(e);
      this.#results = [];
      this.#total = null;
    } finally {
      this.#running = false;
    }
  }

  /** Keeps the results current through a continuous query; off returns to a one-time result. */
  setContinuous(on: boolean): void {
    this.#continuous = on;
    if (on) this.#startContinuous();
    else this.#stopContinuous();
  }

  clear(): void {
    this.#stopContinuous();
    this.#continuous = false;
    this.#results = [];
    this.#total = null;
    this.#ranFilter = null;
    this.#error = null;
  }

  #startContinuous(): void {
    this.#stopContinuous();
    if (!this.model) return;
    const where = this.filter;
    this.#ranFilter = where;
    this.#error = null;
    this.#live = new Map();
    this.#results = [];
    this.#total = 0;
    this.#stop = this.#client.subscribe<{ twinChanges: TwinChange }>(
      TWIN_CHANGES,
      // the table redraws four times a second: more frequent changes of one twin would be lost anyway
      { model: this.model, where, throttleMs: 250 },
      {
        next: ({ twinChanges: c }) => {
          if (c.kind === 'LEAVE' || !c.twin) this.#live.delete(c.id);
          else this.#live.set(c.id, c.twin);
          this.#schedule();
        },
        restart: () => {
          this.#live.clear();
          this.#schedule();
        },
        error: (e) => {
          this.#error = e.message;
        },
      },
    );
  }

  #showRows = (): void => {
    if (!this.#stop) return; // stopped since the beat was asked for
    this.#total = this.#live.size;
    const rows = [...this.#live.values()];
    rows.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    this.#results = rows.slice(0, RESULT_LIMIT);
  };

  #schedule(): void {
    // a continuous query can change thousands of rows a second: redraw the table on the UI beat
    onBeat(this.#showRows);
  }

  #stopContinuous(): void {
    this.#stop?.();
    this.#stop = undefined;
  }
}
