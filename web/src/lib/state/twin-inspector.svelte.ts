/**
 * One twin up close, for the inspector: loads the twin, follows it live, merges its alerts from the
 * feed, and sends messages, commands and removals. The inspector component only renders this.
 *
 * Live state comes from the contract's continuous query on the twin's own id
 * (`twinChanges(where: {field: "$id", op: EQ, value: id})`), so a twin without a location is
 * followed as well as one on the map.
 */
import type { GraphQLClient } from '../graphql/client.svelte.ts';
import { REMOVE_TWIN, SEND_COMMAND, SEND_TO_TWIN, TWIN, TWIN_CHANGES } from '../graphql/operations.ts';
import type { Alert, HistoryEntry, JSONValue, TwinChange, TwinDetail } from '../graphql/types.ts';
import { LEVEL_OF_SEVERITY, twinLevel, type Level } from '../util/severity.ts';
import { isOpen, type AlertFeed } from './alert-feed.svelte.ts';

export type SentKind = 'message' | 'command';

/** how many alerts the inspector lists */
const ALERTS_SHOWN = 20;
/** how many history samples the chart shows, and how often live changes reload them at most */
const HISTORY_SHOWN = 50;
const HISTORY_RELOAD_MS = 2_000;

export class TwinInspectorState {
  readonly model: string;
  readonly id: string;
  #client: GraphQLClient;
  #feed: AlertFeed;
  #twin = $state.raw<TwinDetail | null>(null);
  #loading = $state(true);
  #error = $state<string | null>(null);
  #gone = $state(false);
  #sending = $state(false);
  #sendError = $state<string | null>(null);
  #sendOk = $state<string | null>(null);
  #sent = $state.raw<{ at: string; kind: SentKind; body: JSONValue }[]>([]);
  #updates = $state(0);

  #feedAlerts = $derived.by(() => this.#feed.forTwin(this.model, this.id));
  #alerts = $derived.by(() => {
    const byId = new Map<string, Alert>();
    for (const a of this.#twin?.alerts ?? []) byId.set(a.id, a);
    for (const a of this.#feedAlerts) byId.set(a.id, a);
    const last = (a: Alert) => a.lastAt ?? a.at;
    return [...byId.values()].sort((a, b) => (last(a) < last(b) ? 1 : -1)).slice(0, ALERTS_SHOWN);
  });
  #level = $derived.by(() => {
    let l: number = twinLevel(this.#twin?.level);
    for (const a of this.#alerts) if (isOpen(a)) l = Math.max(l, LEVEL_OF_SEVERITY[a.severity]);
    return l as Level;
  });

  constructor(client: GraphQLClient, feed: AlertFeed, model: string, id: string) {
    this.#client = client;
    this.#feed = feed;
    this.model = model;
    this.id = id;
  }

  get twin(): TwinDetail | null {
    return this.#twin;
  }
  get loading(): boolean {
    return this.#loading;
  }
  get error(): string | null {
    return this.#error;
  }
  /** the twin does not exist (any more) */
  get gone(): boolean {
    return this.#gone;
  }
  get sending(): boolean {
    return this.#sending;
  }
  get sendError(): string | null {
    return this.#sendError;
  }
  get sendOk(): string | null {
    return this.#sendOk;
  }
  get sent(): readonly { at: string; kind: SentKind; body: JSONValue }[] {
    return this.#sent;
  }
  /** the twin's alerts, newest first: those loaded with it and those the feed brought since */
  get alerts(): Alert[] {
    return this.#alerts;
  }
  /** its last states, newest first (empty unless its model keeps a history) */
  get history(): HistoryEntry[] {
    return this.#twin?.history ?? [];
  }
  /** its level on the map: what its model declares, raised by its open alerts */
  get level(): Level {
    return this.#level;
  }
  /** live changes applied so far */
  get updates(): number {
    return this.#updates;
  }

  /** Loads the twin, follows it, and loads it again when the feed brings it a new alert; returns the stop. */
  start(): () => void {
    void this.load();
    const stopSub = this.#client.subscribe<{ twinChanges: TwinChange }>(
      TWIN_CHANGES,
      { model: this.model, where: { field: '$id', op: 'EQ', value: this.id } },
      { next: ({ twinChanges: c }) => this.#change(c) },
    );
    const stopEffects = $effect.root(() => {
      let seen = -1;
      $effect(() => {
        const n = this.#feedAlerts.length;
        // a new alert: its alert list and pending commands changed too
        if (seen !== -1 && n !== seen) void this.load();
        seen = n;
      });
    });
    return () => {
      stopSub();
      stopEffects();
      if (this.#historyTimer) clearTimeout(this.#historyTimer);
    };
  }

  async load(): Promise<void> {
    try {
      const r = await this.#client.request<{ twin: TwinDetail | null }>(TWIN, { model: this.model, id: this.id, alerts: ALERTS_SHOWN, history: HISTORY_SHOWN });
      this.#twin = r.twin;
      this.#gone = r.twin === null;
      this.#error = null;
    } catch (e) {
      this.#error = e instanceof Error ? e.message : String(e);
    } finally {
      this.#loading = false;
    }
  }

  #change(c: TwinChange): void {
    if (c.id !== this.id) return;
    if (c.kind === 'LEAVE') {
      // removed (no last state), or no longer matching its own id: it is gone
      this.#gone = true;
      return;
    }
    if (!c.twin) return;
    this.#gone = false;
    if (this.#twin) this.#twin = { ...this.#twin, ...c.twin };
    else void this.load();
    this.#updates += 1;
    // a twin with a history has a new sample now and then: reload it, at most every few seconds
    if (this.#twin?.history.length && !this.#historyTimer) {
      this.#historyTimer = setTimeout(() => {
        this.#historyTimer = undefined;
        void this.load();
      }, HISTORY_RELOAD_MS);
    }
  }

  #historyTimer: ReturnType<typeof setTimeout> | undefined;

  /** Parses `draft` as JSON and sends it to the twin (as if the device sent it) or to the device. */
  async send(kind: SentKind, draft: string): Promise<void> {
    this.#sendError = null;
    this.#sendOk = null;
    let body: JSONValue;
    try {
      body = JSON.parse(draft) as JSONValue;
    } catch (e) {
      this.#sendError = `Not valid JSON: ${(e as Error).message}`;
      return;
    }
    this.#sending = true;
    try {
      if (kind === 'message') await this.#client.request(SEND_TO_TWIN, { model: this.model, id: this.id, message: body });
      else await this.#client.request(SEND_COMMAND, { model: this.model, id: this.id, command: body });
      this.#sent = [{ at: new Date().toISOString(), kind, body }, ...this.#sent].slice(0, 10);
      this.#sendOk = kind === 'message' ? 'Message sent to the twin.' : 'Command queued for the device.';
      if (kind === 'command') void this.load();
    } catch (e) {
      this.#sendError = e instanceof Error ? e.message : String(e);
    } finally {
      this.#sending = false;
    }
  }

  async acknowledge(alertId: string): Promise<void> {
    await this.#feed.acknowledge(alertId);
    await this.load();
  }

  async clear(alertId: string): Promise<void> {
    await this.#feed.clear(alertId);
    await this.load();
  }

  /** Removes the twin; true when it is gone, false (with `error` set) when the server refused. */
  async remove(): Promise<boolean> {
    try {
      await this.#client.request(REMOVE_TWIN, { model: this.model, id: this.id });
      return true;
    } catch (e) {
      this.#error = e instanceof Error ? e.message : String(e);
      return false;
    }
  }
}
