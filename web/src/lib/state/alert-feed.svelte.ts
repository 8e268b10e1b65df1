/**
 * The live alert feed: the recent alerts from the `alerts` query, then every new one from the
 * `alerts` subscription. Keeps counts of open alerts by severity, a severity filter the operator
 * chose (remembered), and a short highlight for new CRITICAL alerts, with optional sound and
 * browser notification.
 */
import type { GraphQLClient } from '../graphql/client.svelte.ts';
import { ACKNOWLEDGE_ALERT, ALERTS, ALERTS_SUBSCRIPTION } from '../graphql/operations.ts';
import { Severities, type Alert, type Severity, type TwinSummary } from '../graphql/types.ts';
import { LEVEL_OF_SEVERITY, type Level } from '../util/severity.ts';
import { Persisted } from './persisted.svelte.ts';
import { onBeat } from '../util/beat.ts';
import { twinKey } from './selection.svelte.ts';

/** how many alerts the feed keeps in memory */
const KEEP = 500;
/** how long a new CRITICAL alert stays highlighted */
const FRESH_MS = 20_000;

const isSeverity = (v: unknown): v is Severity => typeof v === 'string' && (Severities as readonly string[]).includes(v);
const isBool = (v: unknown): v is boolean => typeof v === 'boolean';

/**
 * Told the highest open severity of a twin, and the twin as its newest alert carried it
 * (undefined when no alert said; null when the twin no longer exists).
 */
export type OpenLevelListener = (model: string, id: string, level: Level, twin: TwinSummary | null | undefined) => void;

export class AlertFeed {
  #client: GraphQLClient;
  #alerts = $state.raw<Alert[]>([]);
  #fresh = $state.raw<ReadonlySet<string>>(new Set());
  #error = $state<string | null>(null);
  readonly minSeverity = new Persisted<Severity>('hextwin.alerts.minSeverity', 'INFO', isSeverity);
  readonly showAcknowledged = new Persisted<boolean>('hextwin.alerts.showAcknowledged', false, isBool);
  readonly sound = new Persisted<boolean>('hextwin.alerts.sound', false, isBool);
  readonly notify = new Persisted<boolean>('hextwin.alerts.notify', false, isBool);
  #listeners = new Set<OpenLevelListener>();
  #audio: AudioContext | undefined;

  #visible = $derived.by(() => {
    const min = LEVEL_OF_SEVERITY[this.minSeverity.current];
    const acked = this.showAcknowledged.current;
    return this.#alerts.filter((a) => LEVEL_OF_SEVERITY[a.severity] >= min && (acked || !a.acknowledged));
  });

  #counts = $derived.by(() => {
    const c: Record<Severity, number> = { INFO: 0, WARNING: 0, ERROR: 0, CRITICAL: 0 };
    for (const a of this.#alerts) if (!a.acknowledged) c[a.severity] += 1;
    return c;
  });

  constructor(client: GraphQLClient) {
    this.#client = client;
  }

  /** alerts passing the filter, newest first */
  get visible(): Alert[] {
    return this.#visible;
  }
  /** open (unacknowledged) alerts by severity, over everything the feed holds */
  get counts(): Record<Severity, number> {
    return this.#counts;
  }
  get error(): string | null {
    return this.#error;
  }
  isFresh(id: string): boolean {
    return this.#fresh.has(id);
  }

  /** Told whenever the highest open severity of a twin changes (the map colours twins by it). */
  onOpenLevel(listener: OpenLevelListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Open alerts of one twin, newest first. */
  forTwin(model: string, id: string): Alert[] {
    return this.#alerts.filter((a) => a.model === model && a.twinId === id);
  }

  start(): () => void {
    const stop = this.#client.subscribe<{ alerts: Alert }>(
      ALERTS_SUBSCRIPTION,
      {},
      {
        next: ({ alerts }) => this.#receive(alerts),
        restart: () => void this.#loadRecent(),
        error: (e) => {
          this.#error = e.message;
        },
      },
    );
    void this.#loadRecent();
    return stop;
  }

  async acknowledge(id: string): Promise<void> {
    const { acknowledgeAlert } = await this.#client.request<{ acknowledgeAlert: Alert | null }>(ACKNOWLEDGE_ALERT, { id });
    const before = this.#alerts.find((a) => a.id === id);
    if (acknowledgeAlert) this.#merge([acknowledgeAlert]);
    else if (before) this.#merge([{ ...before, acknowledged: true }]);
    if (before) this.#publishLevel(before.model, before.twinId);
  }

  async #loadRecent(): Promise<void> {
    try {
      const { alerts } = await this.#client.request<{ alerts: Alert[] }>(ALERTS, { first: 200 });
      const touched = this.#merge(alerts);
      for (const k of touched) {
        const a = this.#alerts.find((x) => twinKey(x.model, x.twinId) === k);
        if (a) this.#publishLevel(a.model, a.twinId);
      }
      this.#error = null;
    } catch (e) {
      this.#error = e instanceof Error ? e.message : String(e);
    }
  }

  #queue: Alert[] = [];
  #flush = (): void => this.#flushQueue();

  /** Live alerts are applied on the UI beat, in batches: an alert storm costs one re-sort and one redraw per beat. */
  #receive(alert: Alert): void {
    this.#queue.push(alert);
    onBeat(this.#flush);
  }

  #flushQueue(): void {
    const batch = this.#queue;
    this.#queue = [];
    const known = new Set(this.#alerts.map((a) => a.id));
    const touched = this.#merge(batch);
    for (const k of touched) {
      const [model, ...rest] = k.split('/');
      this.#publishLevel(model ?? '', rest.join('/'));
    }
    const fresh = batch.filter((a) => !known.has(a.id) && a.severity === 'CRITICAL' && !a.acknowledged);
    if (fresh.length) this.#announce(fresh);
  }

  /** Adds or replaces alerts by id, newest first; returns the twin keys involved. */
  #merge(incoming: Alert[]): Set<string> {
    const byId = new Map(this.#alerts.map((a) => [a.id, a] as const));
    const touched = new Set<string>();
    for (const a of incoming) {
      byId.set(a.id, a);
      touched.add(twinKey(a.model, a.twinId));
    }
    this.#alerts = [...byId.values()].sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0)).slice(0, KEEP);
    return touched;
  }

  #publishLevel(model: string, id: string): void {
    let level = 0;
    let twin: TwinSummary | null | undefined;
    // newest first: the first alert that carries the twin has its latest known state
    for (const a of this.#alerts) {
      if (a.model !== model || a.twinId !== id) continue;
      if (!a.acknowledged) level = Math.max(level, LEVEL_OF_SEVERITY[a.severity]);
      if (twin === undefined && a.twin !== undefined) twin = a.twin;
    }
    for (const l of this.#listeners) l(model, id, level as Level, twin);
  }

  #announce(alerts: Alert[]): void {
    const ids = alerts.map((a) => a.id);
    this.#fresh = new Set([...this.#fresh, ...ids]);
    setTimeout(() => {
      const next = new Set(this.#fresh);
      for (const id of ids) next.delete(id);
      this.#fresh = next;
    }, FRESH_MS);
    if (this.sound.current) this.#beep();
    const first = alerts[0];
    if (first && this.notify.current && typeof Notification !== 'undefined' && Notification.permission === 'granted') {
      const more = alerts.length > 1 ? ` (+${alerts.length - 1} more)` : '';
      new Notification(`CRITICAL: ${first.title}${more}`, {
        body: `${first.model}/${first.twinId}${first.message ? ' — ' + first.message : ''}`,
        tag: first.id,
      });
    }
  }

  #beep(): void {
    try {
      this.#audio ??= new AudioContext();
      const ctx = this.#audio;
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.frequency.value = 880;
      gain.gain.setValueAtTime(0.15, ctx.currentTime);
      gain.gain.exponentialRampToValueAtTime(0.001, ctx.currentTime + 0.4);
      osc.connect(gain).connect(ctx.destination);
      osc.start();
      osc.stop(ctx.currentTime + 0.4);
    } catch {
      // audio blocked until the page gets a user gesture: the highlight still shows
    }
  }
}
