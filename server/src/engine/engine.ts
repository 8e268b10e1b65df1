/**
 * The twin engine, as the rest of the server sees it: correlates messages by (model, id), creates
 * twins on their first message, runs each twin's mailbox one batch at a time while many twins run
 * side by side, fires timers on the engine clock, and keeps everything durable through the TwinStore.
 *
 * This file is the facade; the machinery is one file per concern:
 * - scheduler.ts: ready queue and slices; batch-runner.ts: a twin's run, effects, async budget;
 * - twin-registry.ts: creation within limits, location, removal, quarantine;
 * - positions.ts: log positions and the truncation point; checkpointer.ts: copy-on-write cuts;
 * - recovery.ts: restore and replay; timers.ts; reference.ts; watchdog.ts and quarantine.ts;
 * - alert-log.ts: the alarm lifecycle; twin-history.ts: opt-in state history per twin.
 *
 * Durability in one paragraph: an accepted batch is appended to the store's log and enqueued at
 * once; the caller's promise resolves when the append is durable. Changed twins are checkpointed
 * every `checkpointMs` with each twin's last applied log position, so a restart loads the
 * checkpoint and replays only log entries past each twin's position: nothing acknowledged is lost
 * and nothing is applied twice.
 */
import path from 'node:path';
import { Registry } from 'prom-client';
import { HextwinError, type AggregateGroup, type AlertInput, type JsonValue, type ModelDefinition } from '@hextwin/shared';
import { AlertLog, snapshot } from './alert-log.js';
import { BatchRunner } from './batch-runner.js';
import { Checkpointer } from './checkpointer.js';
import { CommandQueue } from './command-queue.js';
import { CompiledModel } from './compiled-model.js';
import type { AggregateSource, ContextHost } from './context.js';
import { EventHub } from './event-hub.js';
import { EngineMetrics } from './metrics.js';
import type { EngineParts } from './parts.js';
import { LogPositions } from './positions.js';
import { Quarantine } from './quarantine.js';
import { recover } from './recovery.js';
import { ModelReference } from './reference.js';
import { Scheduler } from './scheduler.js';
import { TwinTimers } from './timers.js';
import { TwinHistory } from './twin-history.js';
import { TwinRegistry } from './twin-registry.js';
import type {
  AlertRecord,
  CommandRecord,
  EngineApi,
  EngineEventName,
  EngineEvents,
  EngineOptions,
  Envelope,
  HistoryEntry,
  IngestOptions,
  IngestTap,
  ModelInfo,
  QuarantineRecord,
  TwinView,
} from './types.js';
import { validateEnvelopes } from './validate.js';
import { ModelWatchdog, WATCHDOG_NOTE } from './watchdog.js';
import type { LogRecord, TwinStore } from '../store/store.js';

export type { EngineOptions, ForwardItem, ReferenceSource, TwinRoute } from './types.js';

export class Engine implements EngineApi, ContextHost {
  readonly registry: Registry;
  readonly metrics: EngineMetrics;
  private readonly p: EngineParts;
  private readonly store: TwinStore;
  private readonly defs: ModelDefinition[];
  private readonly runner: BatchRunner;
  private readonly reference: ModelReference;
  private readonly checkpointMs: number;
  private readonly watchdogNote: string | undefined;
  private readonly quarantineSource: (() => Promise<QuarantineRecord[]>) | undefined;
  private readonly nodeTag: string;
  private ready_ = false;
  private stopped = false;
  private fatal: Error | null = null;

  constructor(opts: EngineOptions) {
    this.store = opts.store;
    this.defs = opts.models;
    this.checkpointMs = opts.checkpointMs ?? 2_000;
    this.nodeTag = opts.nodeTag ?? '';
    this.registry = opts.registry ?? new Registry();
    const compiled = new Map<string, CompiledModel>();
    this.metrics =
      opts.metrics ??
      new EngineMetrics(this.registry, {
        twins: () => new Map([...compiled.values()].map((m) => [m.name, m.twins.size])),
        queued: () => this.p.scheduler.queued,
        counts: () => [...compiled.values()].map((m) => ({ model: m.name, accepted: m.accepted, applied: m.applied, failed: m.failed })),
        quarantined: () => this.p.quarantine.size,
      });
    const log = opts.logger;
    const positions = new LogPositions();
    const parts = {
      store: opts.store,
      clock: opts.clock,
      log,
      metrics: this.metrics,
      events: new EventHub<EngineEvents>((err, event) => log.error({ err, event }, 'event listener threw')),
      compiled,
      positions,
      route: opts.route,
      watchdog: null as ModelWatchdog | null,
      limits: { maxBatch: opts.maxBatch ?? 1_000, maxHops: opts.maxHops ?? 32, asyncTimeoutMs: opts.modelAsyncTimeoutMs ?? 0 },
    } as Partial<EngineParts> & { -readonly [K in keyof EngineParts]?: EngineParts[K] };
    this.p = parts as EngineParts;
    this.runner = new BatchRunner(this.p, this);
    parts.scheduler = new Scheduler(this.runner.runTwin, opts.sliceMs ?? 2, opts.maxQueued ?? 500_000);
    parts.timers = new TwinTimers(opts.clock, parts.scheduler);
    parts.twins = new TwinRegistry(this.p, opts.maxTwinsPerModel ?? 0, opts.maxTwins ?? 0);
    parts.checkpointer = new Checkpointer(
      opts.store,
      positions,
      parts.timers,
      this.metrics,
      log,
      {
        isStopped: () => this.stopped,
        hasFailed: () => this.fatal !== null,
        failStore: (e) => this.failStore(e),
        quarantine: (t, code, reason) => this.p.twins.quarantine(t, code, reason),
      },
      this.checkpointMs,
      opts.route,
    );
    this.reference = new ModelReference(this.p, opts.baseDir ?? process.cwd(), opts.reference, () => this.ready_);
    const wd = opts.modelWatchdogMs ?? 0;
    // a host-started watchdog (the cluster's) leaves its note to the host: it is not this engine's to read
    this.watchdogNote = opts.stateDir && !opts.watchdog ? path.join(opts.stateDir, WATCHDOG_NOTE) : undefined;
    if (opts.watchdog) {
      parts.watchdog = opts.watchdog;
    } else if (wd > 0 && this.watchdogNote) parts.watchdog = ModelWatchdog.start(wd, this.watchdogNote);
    this.quarantineSource = opts.quarantineSource;
  }

  // ---------------------------------------------------------------- lifecycle

  /** Open the store, restore every twin, replay the log, and become ready. */
  async start(): Promise<void> {
    const t0 = performance.now();
    const p = this.p;
    await this.store.open();
    const sharedTable = this.store.table<JsonValue>('shared');
    for (const def of this.defs) {
      if (p.compiled.has(def.name)) throw new Error(`two models are named "${def.name}"`);
      const cm = new CompiledModel(def, sharedTable);
      this.reference.load(cm);
      p.compiled.set(def.name, cm);
    }
    this.reference.follow();
    p.alerts = new AlertLog(this.store.table<AlertRecord>('alerts'), this.nodeTag);
    p.alerts.restore();
    p.history = new TwinHistory(this.store.table<HistoryEntry>('history'));
    p.history.restore();
    p.events.on('twinRemoved', (r) => p.history.drop(r.model, r.id));
    p.commands = new CommandQueue(this.store.table<CommandRecord>('commands'));
    p.commands.restore();
    (p as { quarantine: Quarantine }).quarantine = new Quarantine(this.store.table<QuarantineRecord>('quarantine'), p.compiled);
    for (const rec of p.quarantine.restore(this.watchdogNote)) {
      p.log.error({ model: rec.model, id: rec.id, code: rec.code }, 'the watchdog ended the last run on this twin; it is quarantined');
      p.metrics.errors.labels(rec.code).inc();
    }
    if (this.quarantineSource) p.quarantine.adopt(await this.quarantineSource());
    const { restored, replayed } = await recover(p);
    for (const cm of p.compiled.values()) if (cm.def.reference?.precreate) this.reference.precreate(cm);
    await p.scheduler.idle();
    if (this.checkpointMs > 0) {
      await p.checkpointer.checkpoint();
      p.checkpointer.start();
    }
    this.ready_ = true;
    p.log.info({ twins: restored, replayed, ms: Math.round(performance.now() - t0), store: this.store.kind }, 'engine ready');
    p.events.emit('ready', {});
  }

  /** Stop accepting, drain, checkpoint, close the store. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.ready_ = false;
    const p = this.p;
    p.checkpointer.stop();
    this.reference.stop();
    p.timers.stop();
    await p.scheduler.idle();
    if (this.checkpointMs > 0 && !this.fatal) await p.checkpointer.checkpoint();
    await this.store.close();
  }

  get ready(): boolean {
    return this.ready_ && !this.fatal;
  }

  /** Set when the store failed to write: the process must stop serving. */
  get failure(): Error | null {
    return this.fatal;
  }

  now(): number {
    return this.p.clock.now();
  }

  private failStore(e: unknown): void {
    if (this.fatal) return;
    this.fatal = e instanceof Error ? e : new Error(String(e));
    this.p.log.fatal({ err: this.fatal }, 'state store failed: refusing further ingest');
    this.metrics.errors.labels('STORE_FAILED').inc();
  }

  /** Write changed twins, pending internal messages and the truncation point. */
  checkpoint(): Promise<void> {
    return this.p.checkpointer.checkpoint();
  }

  /** Resolves when every mailbox is empty and no batch is running. */
  idle(): Promise<void> {
    return this.p.scheduler.idle();
  }

  // ---------------------------------------------------------------- ingest

  get overloaded(): boolean {
    return this.p.scheduler.overloaded;
  }

  whenAccepting(): Promise<void> {
    return this.p.scheduler.whenAccepting();
  }

  hasModel(model: string): boolean {
    return this.p.compiled.has(model);
  }

  private aggregates: AggregateSource | null = null;
  private tap: IngestTap | null = null;

  setIngestTap(tap: IngestTap | null): void {
    this.tap = tap;
  }

  beforeCheckpointCommit(fn: () => Promise<void>): () => void {
    const barriers = this.p.checkpointer.barriers;
    barriers.add(fn);
    return () => void barriers.delete(fn);
  }

  wakeAt(at: number, fn: () => void): () => void {
    return this.p.clock.wakeAt(at, fn);
  }

  /** Where `ctx.aggregate` reads from (the index's feedback); until set, declared aggregates read as empty. */
  setAggregateSource(source: AggregateSource | null): void {
    this.aggregates = source;
  }

  aggregate(model: string, name: string, key: JsonValue | undefined, byKey: boolean): AggregateGroup[] | AggregateGroup | undefined {
    const def = this.p.compiled.get(model)?.def;
    if (!def?.aggregates || !Object.hasOwn(def.aggregates, name)) {
      throw new HextwinError('UNKNOWN_AGGREGATE', `ctx.aggregate: model ${model} declares no aggregate named ${JSON.stringify(name)}`);
    }
    const got = this.aggregates?.get(model, name, key, byKey);
    return got ?? (byKey ? undefined : []);
  }

  /** Validate every envelope first: a batch is accepted whole or not at all. */
  validate(envelopes: Envelope[]): void {
    validateEnvelopes(this.p.compiled, envelopes);
  }

  private checkOpen(): void {
    if (this.stopped) throw new HextwinError('SHUTTING_DOWN');
    if (this.fatal) throw new HextwinError('STORE_FAILED', undefined, { cause: this.fatal });
  }

  async ingest(envelopes: Envelope[], options?: IngestOptions): Promise<void> {
    this.checkOpen();
    if (!this.ready_) throw new HextwinError('NOT_READY');
    if (envelopes.length === 0) return;
    if (!options?.validated) this.validate(envelopes);
    const p = this.p;
    if (p.scheduler.overloaded) throw new HextwinError('OVERLOADED', `${p.scheduler.queued} messages are waiting; retry later`);
    this.checkTwinRoom(envelopes);
    const source = options?.source ?? null;
    const pos = p.positions.take(envelopes.length);
    const t0 = performance.now();
    let durable: Promise<void>;
    try {
      durable = this.store.append(options?.raw ? { pos, envelopes, source, raw: options.raw } : { pos, envelopes, source });
    } catch (e) {
      // the batch could not be encoded (e.g. nested too deep): refuse it alone
      throw new HextwinError('INVALID_MESSAGE', `the batch cannot be stored: ${(e as Error).message}`, { cause: e });
    }
    const rec = p.positions.track(pos, envelopes.length);
    if (this.tap) this.tap(envelopes, source);
    let cm = p.compiled.get(envelopes[0]!.model)!;
    for (let i = 0; i < envelopes.length; i++) {
      const e = envelopes[i]!;
      if (e.model !== cm.name) cm = p.compiled.get(e.model)!;
      cm.accepted++;
      p.twins.deliver(cm, e.id, { kind: 'msg', pos: pos + i, message: e.message, hops: 0, rec, source });
    }
    try {
      await durable;
    } catch (e) {
      this.failStore(e);
      throw new HextwinError('STORE_FAILED', undefined, { cause: e });
    }
    this.metrics.storeCommitSeconds.observe((performance.now() - t0) / 1000);
  }

  /** Refuse a batch that would create twins past MAX_TWINS / MAX_TWINS_PER_MODEL (counted only near the limit). */
  private checkTwinRoom(envelopes: Envelope[]): void {
    const { compiled, twins } = this.p;
    if (!twins.nearLimit(envelopes, compiled)) return;
    const fresh = new Map<CompiledModel, Set<string>>();
    for (const e of envelopes) {
      const cm = compiled.get(e.model)!;
      if (cm.twins.has(e.id)) continue;
      let s = fresh.get(cm);
      if (!s) fresh.set(cm, (s = new Set()));
      s.add(e.id);
    }
    let total = 0;
    for (const [cm, ids] of fresh) {
      twins.checkRoom(cm, ids.size);
      total += ids.size;
    }
    twins.checkTotal(total);
  }

  /**
   * Enqueue a record that is already durable elsewhere (the cluster's JetStream log), without
   * appending it to the store. Envelopes were validated when they were accepted; those of a model
   * this engine does not run are counted and skipped. Returns the position given to the first
   * envelope (envelope i has pos + i), so the caller can map it to its own log position.
   */
  enqueueDurable(record: Omit<LogRecord, 'pos'>): number {
    this.checkOpen();
    const p = this.p;
    const envelopes = record.envelopes;
    const pos = p.positions.take(envelopes.length);
    const source = record.source ?? null;
    const hops = record.hops ?? 0;
    const rec = p.positions.track(pos, 0);
    for (let i = 0; i < envelopes.length; i++) {
      const e = envelopes[i]!;
      const cm = p.compiled.get(e.model);
      if (!cm) {
        this.metrics.errors.labels('UNKNOWN_MODEL').inc();
        continue;
      }
      if (record.control === 'remove') {
        const t = cm.twins.get(e.id);
        if (!t) continue;
        rec.remaining++;
        p.scheduler.enqueue(t, { kind: 'remove', pos: pos + i, rec });
        continue;
      }
      // not counted as accepted here: the node that accepted it into the durable log counted it
      rec.remaining++;
      p.twins.deliver(cm, e.id, { kind: 'msg', pos: pos + i, message: e.message, hops, rec, source });
    }
    return pos;
  }

  // ---------------------------------------------------------------- alerts, commands, removal

  alerts(filter: Parameters<EngineApi['alerts']>[0] = {}): AlertRecord[] {
    return this.p.alerts.query(filter);
  }

  /** A twin's most recent alerts, newest first. */
  twinAlerts(model: string, id: string, limit = 20): AlertRecord[] {
    const t = this.p.compiled.get(model)?.twins.get(id);
    if (!t?.alertIds) return [];
    const out: AlertRecord[] = [];
    for (let i = t.alertIds.length - 1; i >= 0 && out.length < limit; i--) {
      const a = this.p.alerts.get(t.alertIds[i]!);
      if (a) out.push(a);
    }
    return out;
  }

  acknowledgeAlert(id: string): AlertRecord | undefined {
    const r = this.p.alerts.acknowledge(id);
    if (!r) return undefined;
    if (r.changed) this.p.events.emit('alert', snapshot(r.alarm));
    this.p.events.emit('alertAcknowledged', r.alarm);
    return r.alarm;
  }

  /** An operator clears an alarm (a cleared one stays as it is). */
  clearAlertById(id: string): AlertRecord | undefined {
    const r = this.p.alerts.clearById(id, this.p.clock.now());
    if (r?.changed) this.p.events.emit('alert', snapshot(r.alarm));
    return r?.alarm;
  }

  raiseAlert(model: string, id: string, input: AlertInput & { type: string }): AlertRecord | undefined {
    const t = this.p.compiled.get(model)?.twins.get(id);
    return t ? this.runner.alertEffect(t, input, this.p.clock.now()) : undefined;
  }

  clearAlertByType(model: string, id: string, type: string): AlertRecord | undefined {
    const t = this.p.compiled.get(model)?.twins.get(id);
    return t ? this.runner.alertEffect(t, { clear: type }, this.p.clock.now()) : undefined;
  }

  assignAlert(id: string, assignee: string | null): AlertRecord | undefined {
    const a = this.p.alerts.assign(id, assignee);
    if (a) this.p.events.emit('alert', snapshot(a));
    return a;
  }

  commentAlert(id: string, author: string, text: string): AlertRecord | undefined {
    const a = this.p.alerts.comment(id, author, text, this.p.clock.now());
    if (a) this.p.events.emit('alert', snapshot(a));
    return a;
  }

  /** A twin's last states, newest first (models with `history`). */
  twinHistory(model: string, id: string, limit = 50): HistoryEntry[] {
    return this.p.history.get(model, id, limit);
  }

  private model(model: string): CompiledModel {
    const cm = this.p.compiled.get(model);
    if (!cm) throw new HextwinError('UNKNOWN_MODEL', `no model named ${JSON.stringify(model)}`);
    return cm;
  }

  /** Queue a command for a twin's device; the twin must exist (TWIN_NOT_FOUND otherwise). */
  async sendCommand(model: string, id: string, command: JsonValue): Promise<CommandRecord> {
    const t = this.model(model).twins.get(id);
    if (!t) throw new HextwinError('TWIN_NOT_FOUND', `no twin ${model}/${id}: commands go to twins that exist`);
    const record = this.p.commands.add(model, id, command, this.p.clock.now());
    this.p.events.emit('command', { record, source: t.source });
    await this.store.flushed();
    return record;
  }

  pendingCommands(model: string, id: string): CommandRecord[] {
    return this.p.commands.pending(model, id);
  }

  async ackCommands(model: string, id: string, cids?: string[]): Promise<number> {
    const n = this.p.commands.ack(model, id, cids);
    if (n) await this.store.flushed();
    return n;
  }

  async removeTwin(model: string, id: string): Promise<boolean> {
    const t = this.model(model).twins.get(id);
    if (!t) return false;
    const p = this.p;
    const pos = p.positions.take(1);
    const durable = this.store.append({ pos, envelopes: [{ model, id, message: null }], source: null, control: 'remove' });
    // settled when applied; the log keeps the record until the next checkpoint
    p.positions.track(pos, 0);
    p.scheduler.enqueue(t, { kind: 'remove', pos });
    await durable;
    return true;
  }

  // ---------------------------------------------------------------- quarantine

  quarantined(): QuarantineRecord[] {
    return this.p.quarantine.list();
  }

  /** Quarantine a twin on a record made elsewhere (another node's watchdog, the cluster bucket). */
  applyQuarantine(rec: QuarantineRecord): void {
    if (this.p.compiled.get(rec.model)?.quarantined.has(rec.id)) return;
    this.p.quarantine.add(rec);
    this.p.log.error({ model: rec.model, id: rec.id, code: rec.code }, 'twin quarantined by a cluster-wide record');
  }

  async releaseQuarantine(model: string, id: string): Promise<boolean> {
    const released = this.p.quarantine.release(model, id);
    if (released) {
      const t = this.p.compiled.get(model)?.twins.get(id);
      if (t?.lastError && (t.lastError.code === 'MODEL_TIMEOUT' || t.lastError.code === 'STATE_UNENCODABLE')) t.lastError = null;
      await this.store.flushed();
    }
    return released;
  }

  // ---------------------------------------------------------------- reads

  /** The compiled models, for the index and the cluster. */
  compiledModels(): Iterable<CompiledModel> {
    return this.p.compiled.values();
  }

  models(): ModelInfo[] {
    return [...this.p.compiled.values()].map((cm) => ({
      name: cm.name,
      description: cm.def.description,
      twinCount: cm.twins.size,
      hasLocation: typeof cm.def.location === 'function',
      stateSchema: cm.def.stateSchema,
      messageSchema: cm.def.messageSchema,
      level: cm.def.level?.bind(cm.def),
      aggregates: cm.def.aggregates,
      record: cm.def.record,
    }));
  }

  twin(model: string, id: string): TwinView | undefined {
    return this.p.compiled.get(model)?.twins.get(id);
  }

  twins(model: string): Iterable<TwinView> {
    return this.model(model).twins.values();
  }

  twinCount(model?: string): number {
    if (model !== undefined) return this.p.compiled.get(model)?.twins.size ?? 0;
    return this.p.twins.total;
  }

  get mailboxDepth(): number {
    return this.p.scheduler.queued;
  }

  /** Twin-to-twin items waiting for a checkpoint before they can be forwarded. */
  get outboxSize(): number {
    return this.p.positions.outbox.length;
  }

  /** Live entries in the timer heap (one per running timer). */
  get timerCount(): number {
    return this.p.timers.size;
  }

  on<K extends EngineEventName>(event: K, listener: (payload: EngineEvents[K]) => void): () => void {
    return this.p.events.on(event, listener);
  }
}
