/**
 * The live alert feed: the recent alarms from the `alerts` query, then every lifecycle change from
 * the `alerts` subscription (raise, repeat, severity change, ack, assign, clear), each replacing the
 * alarm by id. Keeps counts of open alarms (active, not acknowledged) by severity, the filters the
 * operator chose (remembered), and a short highlight for a new or escalated CRITICAL alarm, with
 * optional sound and browser notification.
 */
import type { GraphQLClient } from '../graphql/client.svelte.ts';
import { ACKNOWLEDGE_ALERT, ALERTS, ALERTS_SUBSCRIPTION, ASSIGN_ALERT, CLEAR_ALERT } from '../graphql/operations.ts';
import { Severities, type Alert, type MapTwin, type Severity } from '../graphql/types.ts';
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
/** an alarm that still needs an operator: active and not acknowledged */
export const isOpen = (a: Alert): boolean => !a.acknowledged && a.status !== 'CLEARED';
/** the time an alarm was last raised (records without a lifecycle: when it was raised) */
const lastAt = (a: Alert): string => a.lastAt ?? a.at;

/**
 * Told the highest open severity of a twin, and the twin as its newest alert carried it
 * (undefined when no alert said; null when the twin no longer exists).
 */
export type OpenLevelListener = (model: string, id: string, level: Level, twin: MapTwin | null | undefined) => void;

export class AlertFeed {
  #client: GraphQLClient;
  #alerts = $state.raw<Alert[]>([]);
  #fresh = $state.raw<ReadonlySet<string>>(new Set());
  #error = $state<string | null>(null);
  readonly minSeverity = new Persisted<Severity>('hextwin.alerts.minSeverity', 'INFO', isSeverity);
  readonly showAcknowledged = new Persisted<boolean>('hextwin.alerts.showAcknowledged', false, isBool);
  readonly showCleared = new Persisted<boolean>('hextwin.alerts.showCleared', false, isBool);
  readonly sound = new Persisted<boolean>('hextwin.alerts.sound', false, isBool);
  readonly notify = new Persisted<boolean>('hextwin.alerts.notify', false, isBool);
  #listeners = new Set<OpenLevelListener>();
  #audio: AudioContext | undefined;

  #visible = $derived.by(() => {
    const min = LEVEL_OF_SEVERITY[this.minSeverity.current];
    const acked = this.showAcknowledged.current;
    const cleared = this.showCleared.current;
    return this.#alerts.filter((a) => LEVEL_OF_SEVERITY[a.severity] >= min && (acked || !a.acknowledged) && (cleared || a.status !== 'CLEARED'));
  });

  #counts = $derived.by(() => {
    const c: Record<Severity, number> = { INFO: 0, WARNING: 0, ERROR: 0, CRITICAL: 0 };
    for (const a of this.#alerts) if (isOpen(a)) c[a.severity] += 1;
    return c;
  });

  constructor(client: GraphQLClient) {
    this.#client = client;
  }

  /** alerts passing the filter, newest first */
  get visible(): Alert[] {
    return this.#visible;
  }
  /** open alarms (active, unacknowledged) by severity, over everything the feed holds */
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

  /** Clears an alarm for good (a model raising its type again opens a new one). */
  async clear(id: string): Promise<void> {
    const { clearAlert } = await this.#client.request<{ clearAlert: Alert | null }>(CLEAR_ALERT, { id });
    if (clearAlert) {
      this.#merge([clearAlert]);
      this.#publishLevel(clearAlert.model, clearAlert.twinId);
    }
  }

  /** Assigns an alarm to someone (null unassigns). */
  async assign(id: string, assignee: string | null): Promise<void> {
    const { assignAlert } = await this.#client.request<{ assignAlert: Alert | null }>(ASSIGN_ALERT, { id, assignee });
    if (assignAlert) this.#merge([assignAlert]);
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
    const fresh = batch.filter((a) => (!known.has(a.id) || a.change === 'SEVERITY') && a.severity === 'CRITICAL' && isOpen(a));
    if (fresh.length) this.#announce(fresh);
  }

  /** Adds or replaces alarms by id (a later change wins), last raised first; returns the twin keys involved. */
  #merge(incoming: Alert[]): Set<string> {
    const byId = new Map(this.#alerts.map((a) => [a.id, a] as const));
    const touched = new Set<string>();
    for (const a of incoming) {
      // the twin summary comes with feed alarms only: keep it when a mutation's answer lacks it
      const before = byId.get(a.id);
      byId.set(a.id, a.twin === undefined && before?.twin !== undefined ? { ...a, twin: before.twin } : a);
      touched.add(twinKey(a.model, a.twinId));
    }
    this.#alerts = [...byId.values()].sort((a, b) => (lastAt(a) < lastAt(b) ? 1 : lastAt(a) > lastAt(b) ? -1 : 0)).slice(0, KEEP);
    return touched;
  }

  #publishLevel(model: string, id: string): void {
    let level = 0;
    let twin: MapTwin | null | undefined;
    // newest first: the first alert that carries the twin has its latest known state
    for (const a of this.#alerts) {
      if (a.model !== model || a.twinId !== id) continue;
      if (isOpen(a)) level = Math.max(level, LEVEL_OF_SEVERITY[a.severity]);
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
