/**
 * The twin engine: correlates messages by (model, id), creates twins on their first message, runs
 * each twin's mailbox one batch at a time while many twins run side by side, fires timers on the
 * engine clock, and keeps everything durable through the TwinStore.
 *
 * Durability in one paragraph: an accepted batch is appended to the store's log and enqueued at
 * once; the caller's promise resolves when the append is durable. Twin state is checkpointed
 * (changed twins only) every `checkpointMs` with each twin's last applied log position, so a
 * restart loads the checkpoint and replays only log entries past each twin's position: nothing
 * acknowledged is lost and nothing is applied twice. Twin-to-twin messages not yet applied at a
 * checkpoint are written with it; the store's in-order durability makes the cut consistent.
 */
import { EventHub } from './event-hub.js';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { HextwinError, isTwinId, toCoded, type JsonValue, type ModelDefinition, type ProcessResult, type ReferenceRow, type Severity } from '@hextwin/shared';
import { BatchContext, type ContextHost } from './context.js';
import { CompiledModel } from './compiled-model.js';
import { validateEnvelopes } from './validate.js';
import { Twin, type LogRecordRef, type MailItem } from './twin.js';
import { TimerHeap } from './timer-heap.js';
import { AlertLog } from './alert-log.js';
import { CommandQueue } from './command-queue.js';
import { EngineMetrics } from './metrics.js';
import { loadReferenceFile, watchReferenceFile } from './reference-data.js';
import type { Clock } from './clock.js';
import type { AlertRecord, CommandRecord, EngineApi, EngineEventName, EngineEvents, Envelope, IngestOptions, ModelInfo, SourceRef, TwinView } from './types.js';
import type { Checkpoint, LogRecord, StoredTwin, Tombstone, TwinStore } from '../store/store.js';

export interface EngineOptions {
  store: TwinStore;
  clock: Clock;
  models: ModelDefinition[];
  logger: Logger;
  registry?: Registry;
  /** messages waiting in mailboxes before ingest is refused with OVERLOADED */
  maxQueued?: number;
  /** ms between checkpoints; 0 disables the automatic checkpoint (workbench) */
  checkpointMs?: number;
  /** messages handed to a model in one batch at most */
  maxBatch?: number;
  /** twin-to-twin hops before a chain is cut with MESSAGE_LOOP */
  maxHops?: number;
  /** directory relative reference-data paths resolve against */
  baseDir?: string;
  /** short tag that makes alert ids unique across cluster nodes */
  nodeTag?: string;
  /** ms of work per scheduler slice before yielding to I/O */
  sliceMs?: number;
  /** metrics shared by several engines (the cluster runs one engine per partition); default: own, on `registry` */
  metrics?: EngineMetrics;
  /** reference data loaded once for several engines; default: each engine loads and watches the files itself */
  reference?: ReferenceSource;
  /** where twins live when this engine hosts only some of them (a cluster partition); default: every twin is local */
  route?: TwinRoute;
}

/** Reference rows by model, loaded and watched by whoever hosts several engines. */
export interface ReferenceSource {
  rows(model: string): Map<string, ReferenceRow> | undefined;
  /** called with the model name after its rows were reloaded; returns an unsubscribe function */
  onReload(listener: (model: string) => void): () => void;
}

/** A twin-to-twin message or removal for a twin hosted elsewhere, made durable by the checkpoint that holds it. */
export interface ForwardItem {
  /** this engine's position of the item: unique, never reused once checkpointed */
  pos: number;
  envelope: Envelope;
  control?: 'remove';
  hops: number;
  source: SourceRef | null;
}

/**
 * Routing of twin-to-twin messages when this engine hosts only some twins. Items for other twins
 * are held until a checkpoint that contains them is durable, then handed to `forward`; they stay
 * pending (and in every later checkpoint) until `forward` resolves, so a crash re-forwards them.
 */
export interface TwinRoute {
  isLocal(model: string, id: string): boolean;
  forward(items: ForwardItem[]): Promise<void>;
  /** ms to wait before the checkpoint that releases newly queued items (default 20) */
  delayMs?: number;
}

type MsgItem = Extract<MailItem, { kind: 'msg' }>;

const isThenable = (v: unknown): v is PromiseLike<unknown> => typeof (v as { then?: unknown } | null)?.then === 'function';

const RESULTS = new Set<ProcessResult>(['update', 'none', 'remove']);
/** twins encoded per slice of a large checkpoint (a few milliseconds of work) */
const CHECKPOINT_SLICE = 2_000;

export class Engine implements EngineApi, ContextHost {
  private readonly store: TwinStore;
  private readonly clock: Clock;
  private readonly log: Logger;
  readonly registry: Registry;
  readonly metrics: EngineMetrics;
  private readonly compiled = new Map<string, CompiledModel>();
  private readonly defs: ModelDefinition[];
  private readonly maxQueued: number;
  private readonly checkpointMs: number;
  private readonly maxBatch: number;
  private readonly maxHops: number;
  private readonly sliceMs: number;
  private readonly baseDir: string;
  private readonly nodeTag: string;
  private readonly referenceSource: ReferenceSource | undefined;
  private readonly route: TwinRoute | undefined;

  private nextPos = 1;
  /** log records with envelopes not yet applied, in position order */
  private pendingRecs: LogRecordRef[] = [];
  private pendingHead = 0;
  /** twin-to-twin messages and removals not yet applied, by position (insertion order = position order) */
  private internalPending = new Map<number, { envelope: Envelope; control?: 'remove'; hops: number; source: SourceRef | null }>();
  /** positions of internalPending items for twins hosted elsewhere, waiting for a checkpoint */
  private outbox: number[] = [];
  private forwardTimer: NodeJS.Timeout | null = null;
  private dirty = new Set<Twin>();
  private removedSinceCheckpoint: Tombstone[] = [];
  private tombstones = new Map<string, number>();

  private ready_ = false;
  private stopped = false;
  private queued = 0;
  private readyQueue: Twin[] = [];
  private readyHead = 0;
  /** twins scheduled or running */
  private active = 0;
  private drainScheduled = false;
  private idleWaiters: (() => void)[] = [];
  private acceptWaiters: (() => void)[] = [];

  private timers = new TimerHeap<Twin>();
  private timerWake: (() => void) | null = null;
  private timerWakeAt = Infinity;

  private alertLog!: AlertLog;
  private commandQueue!: CommandQueue;
  private readonly events = new EventHub<EngineEvents>((err, event) => this.log.error({ err, event }, 'event listener threw'));
  private checkpointTimer: NodeJS.Timeout | null = null;
  private checkpointing: Promise<void> | null = null;
  private unwatch: (() => void)[] = [];
  private fatal: Error | null = null;
  private batchSample = 0;
  private lastCheckpointCost = 0;

  constructor(opts: EngineOptions) {
    this.store = opts.store;
    this.clock = opts.clock;
    this.log = opts.logger;
    this.defs = opts.models;
    this.registry = opts.registry ?? new Registry();
    this.maxQueued = opts.maxQueued ?? 500_000;
    this.checkpointMs = opts.checkpointMs ?? 2_000;
    this.maxBatch = opts.maxBatch ?? 1_000;
    this.maxHops = opts.maxHops ?? 32;
    this.sliceMs = opts.sliceMs ?? 10;
    this.baseDir = opts.baseDir ?? process.cwd();
    this.nodeTag = opts.nodeTag ?? '';
    this.referenceSource = opts.reference;
    this.route = opts.route;
    this.metrics =
      opts.metrics ??
      new EngineMetrics(this.registry, {
        twins: () => new Map([...this.compiled.values()].map((m) => [m.name, m.twins.size])),
        queued: () => this.queued,
        counts: () => [...this.compiled.values()].map((m) => ({ model: m.name, accepted: m.accepted, applied: m.applied, failed: m.failed })),
      });
  }

  // ---------------------------------------------------------------- lifecycle

  /** Open the store, restore every twin, replay the log, and become ready. */
  async start(): Promise<void> {
    const t0 = performance.now();
    await this.store.open();
    const sharedTable = this.store.table<JsonValue>('shared');
    for (const def of this.defs) {
      if (this.compiled.has(def.name)) throw new Error(`two models are named "${def.name}"`);
      const cm = new CompiledModel(def, sharedTable);
      if (def.reference && this.referenceSource) {
        cm.reference = this.referenceSource.rows(def.name);
      } else if (def.reference) {
        const { file, rows } = loadReferenceFile(def.reference, this.baseDir);
        cm.reference = rows;
        const spec = def.reference;
        this.unwatch.push(
          watchReferenceFile(file, spec, (next) => {
            if (next instanceof Error) this.log.error({ err: next, model: def.name }, 'reference data reload failed; keeping the previous rows');
            else {
              cm.reference = next;
              this.log.info({ model: def.name, rows: next.size }, 'reference data reloaded');
              if (spec.precreate) this.precreate(cm);
            }
          }),
        );
      }
      this.compiled.set(def.name, cm);
    }
    if (this.referenceSource) {
      this.unwatch.push(
        this.referenceSource.onReload((model) => {
          const cm = this.compiled.get(model);
          if (!cm) return;
          cm.reference = this.referenceSource!.rows(model);
          if (cm.def.reference?.precreate && this.ready_) this.precreate(cm);
        }),
      );
    }
    this.alertLog = new AlertLog(this.store.table<AlertRecord>('alerts'), this.nodeTag);
    this.alertLog.restore();
    this.commandQueue = new CommandQueue(this.store.table<CommandRecord>('commands'));
    this.commandQueue.restore();

    const meta = await this.store.loadMeta();
    let restored = 0;
    for await (const st of this.store.loadTwins()) {
      const cm = this.compiled.get(st.model);
      if (!cm) continue; // a model no longer loaded: its twins stay in the store untouched
      this.restoreTwin(cm, st);
      restored++;
    }
    for (const tomb of await this.store.loadTombstones()) this.tombstones.set(tomb.model + '/' + tomb.id, tomb.lastPos);
    const fromPos = meta?.truncateBelow ?? 0;
    this.nextPos = Math.max(this.nextPos, meta?.nextPos ?? 1);
    const records: LogRecord[] = [];
    for await (const rec of this.store.readLog(fromPos)) {
      records.push(rec);
      this.nextPos = Math.max(this.nextPos, rec.pos + Math.max(1, rec.envelopes.length));
    }
    let replayed = 0;
    for (const rec of records) replayed += this.replay(rec);
    for (const cm of this.compiled.values()) if (cm.def.reference?.precreate) this.precreate(cm);
    await this.idle();
    this.tombstones.clear();
    if (this.checkpointMs > 0) {
      await this.checkpoint();
      this.scheduleCheckpoint(this.checkpointMs);
    }
    this.ready_ = true;
    this.log.info({ twins: restored, replayed, ms: Math.round(performance.now() - t0), store: this.store.kind }, 'engine ready');
    this.emit('ready', {});
  }

  /** Stop accepting, drain, checkpoint, close the store. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.ready_ = false;
    if (this.checkpointTimer) clearTimeout(this.checkpointTimer);
    if (this.forwardTimer) clearTimeout(this.forwardTimer);
    for (const u of this.unwatch) u();
    this.timerWake?.();
    await this.idle();
    if (this.checkpointMs > 0 && !this.fatal) await this.checkpoint();
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
    return this.clock.now();
  }

  // ---------------------------------------------------------------- ingest

  get overloaded(): boolean {
    return this.queued >= this.maxQueued;
  }

  whenAccepting(): Promise<void> {
    if (!this.overloaded) return Promise.resolve();
    return new Promise((r) => this.acceptWaiters.push(r));
  }

  hasModel(model: string): boolean {
    return this.compiled.has(model);
  }

  /** Validate every envelope first: a batch is accepted whole or not at all. */
  validate(envelopes: Envelope[]): void {
    validateEnvelopes(this.compiled, envelopes);
  }

  async ingest(envelopes: Envelope[], options?: IngestOptions): Promise<void> {
    if (this.stopped) throw new HextwinError('SHUTTING_DOWN');
    if (this.fatal) throw new HextwinError('STORE_FAILED', undefined, { cause: this.fatal });
    if (!this.ready_) throw new HextwinError('NOT_READY');
    if (envelopes.length === 0) return;
    this.validate(envelopes);
    if (this.overloaded) throw new HextwinError('OVERLOADED', `${this.queued} messages are waiting; retry later`);
    const source = options?.source ?? null;
    const pos = this.nextPos;
    this.nextPos += envelopes.length;
    const t0 = performance.now();
    let durable: Promise<void>;
    try {
      durable = this.store.append({ pos, envelopes, source });
    } catch (e) {
      // the batch could not be encoded (e.g. nested too deep): refuse it alone
      throw new HextwinError('INVALID_MESSAGE', `the batch cannot be stored: ${(e as Error).message}`, { cause: e });
    }
    const rec: LogRecordRef = { pos, remaining: envelopes.length };
    this.pendingRecs.push(rec);
    let cm = this.compiled.get(envelopes[0]!.model)!;
    for (let i = 0; i < envelopes.length; i++) {
      const e = envelopes[i]!;
      if (e.model !== cm.name) cm = this.compiled.get(e.model)!;
      cm.accepted++;
      this.deliver(cm, e.id, { kind: 'msg', pos: pos + i, message: e.message, hops: 0, rec, source });
    }
    try {
      await durable;
    } catch (e) {
      this.failStore(e);
      throw new HextwinError('STORE_FAILED', undefined, { cause: e });
    }
    this.metrics.storeCommitSeconds.observe((performance.now() - t0) / 1000);
  }

  /**
   * Enqueue a record that is already durable elsewhere (the cluster's JetStream log), without
   * appending it to the store. Envelopes were validated when they were accepted; those of a model
   * this engine does not run are counted and skipped. Returns the position given to the first
   * envelope (envelope i has pos + i), so the caller can map it to its own log position.
   */
  enqueueDurable(record: Omit<LogRecord, 'pos'>): number {
    if (this.stopped) throw new HextwinError('SHUTTING_DOWN');
    if (this.fatal) throw new HextwinError('STORE_FAILED', undefined, { cause: this.fatal });
    const envelopes = record.envelopes;
    const pos = this.nextPos;
    this.nextPos += Math.max(1, envelopes.length);
    const source = record.source ?? null;
    const hops = record.hops ?? 0;
    const rec: LogRecordRef = { pos, remaining: 0 };
    this.pendingRecs.push(rec);
    for (let i = 0; i < envelopes.length; i++) {
      const e = envelopes[i]!;
      const cm = this.compiled.get(e.model);
      if (!cm) {
        this.metrics.errors.labels('UNKNOWN_MODEL').inc();
        continue;
      }
      if (record.control === 'remove') {
        const t = cm.twins.get(e.id);
        if (!t) continue;
        rec.remaining++;
        this.pushRemove(t, pos + i, rec);
        continue;
      }
      // not counted as accepted here: the node that accepted it into the durable log counted it
      rec.remaining++;
      this.deliver(cm, e.id, { kind: 'msg', pos: pos + i, message: e.message, hops, rec, source });
    }
    return pos;
  }

  private pushRemove(t: Twin, pos: number, rec: LogRecordRef | null): void {
    const item: MailItem = { kind: 'remove', pos, rec };
    if (t.mailbox) t.mailbox.push(item);
    else t.mailbox = [item];
    this.queued++;
    if (!t.scheduled) this.schedule(t);
  }

  private failStore(e: unknown): void {
    if (this.fatal) return;
    this.fatal = e instanceof Error ? e : new Error(String(e));
    this.log.fatal({ err: this.fatal }, 'state store failed: refusing further ingest');
    this.metrics.errors.labels('STORE_FAILED').inc();
  }

  // ---------------------------------------------------------------- mailboxes and scheduling

  private getOrCreate(cm: CompiledModel, id: string): Twin {
    let t = cm.twins.get(id);
    if (t) return t;
    t = new Twin(cm, id, this.clock.now());
    t.state = cm.def.init(id, { model: cm.name, id, now: () => this.clock.now(), reference: cm.reference?.get(id) });
    cm.twins.set(id, t);
    return t;
  }

  private deliver(cm: CompiledModel, id: string, item: MailItem): void {
    let t: Twin;
    try {
      t = this.getOrCreate(cm, id);
    } catch (e) {
      // init threw: the message cannot be applied; it fails like a throwing batch
      this.reportError(cm.name, id, 'MODEL_ERROR', e);
      cm.failed++;
      this.settleItem(item);
      return;
    }
    if (t.mailbox) t.mailbox.push(item);
    else t.mailbox = [item];
    this.queued++;
    if (!t.scheduled) this.schedule(t);
  }

  private schedule(t: Twin): void {
    t.scheduled = true;
    this.active++;
    this.readyQueue.push(t);
    if (!this.drainScheduled) {
      this.drainScheduled = true;
      setImmediate(this.drain);
    }
  }

  private readonly drain = (): void => {
    this.drainScheduled = false;
    const deadline = performance.now() + this.sliceMs;
    let n = 0;
    while (this.readyHead < this.readyQueue.length) {
      const t = this.readyQueue[this.readyHead]!;
      this.readyQueue[this.readyHead++] = undefined as unknown as Twin;
      this.runTwin(t);
      if ((++n & 63) === 0 && performance.now() > deadline) break;
    }
    if (this.readyHead >= this.readyQueue.length) {
      this.readyQueue = [];
      this.readyHead = 0;
    } else if (this.readyHead > 65_536) {
      this.readyQueue = this.readyQueue.slice(this.readyHead);
      this.readyHead = 0;
    }
    if (this.readyHead < this.readyQueue.length && !this.drainScheduled) {
      this.drainScheduled = true;
      setImmediate(this.drain);
    }
    this.checkWaiters();
  };

  private checkWaiters(): void {
    if (this.acceptWaiters.length && this.queued < this.maxQueued * 0.8) {
      const w = this.acceptWaiters;
      this.acceptWaiters = [];
      for (const r of w) r();
    }
    if (this.active === 0 && this.idleWaiters.length) {
      const w = this.idleWaiters;
      this.idleWaiters = [];
      for (const r of w) r();
    }
  }

  /** Resolves when every mailbox is empty and no batch is running. */
  idle(): Promise<void> {
    if (this.active === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private runTwin(t: Twin): void {
    const items = t.mailbox!;
    t.mailbox = null;
    this.queued -= items.length;
    this.runItems(t, items, 0);
  }

  /** Run items[i..] for twin t; switches to the async path when a model returns a promise. */
  private runItems(t: Twin, items: MailItem[], i: number): void {
    while (i < items.length) {
      if (t.removed) {
        // the twin was removed mid-mailbox: what follows goes to a fresh twin, as a first message would
        for (let k = i; k < items.length; k++) {
          const it = items[k]!;
          if (it.kind !== 'timer') this.deliver(t.cm, t.id, it);
        }
        break;
      }
      const it = items[i]!;
      if (it.kind === 'msg') {
        let j = i + 1;
        while (j < items.length && items[j]!.kind === 'msg' && j - i < this.maxBatch) j++;
        const batch = (i === 0 && j === items.length ? items : items.slice(i, j)) as MsgItem[];
        const ctx = new BatchContext(this, t);
        const messages = new Array(batch.length);
        for (let k = 0; k < batch.length; k++) messages[k] = batch[k]!.message;
        const sample = (++this.batchSample & 15) === 0;
        const t0 = sample ? performance.now() : 0;
        let r: ProcessResult | Promise<ProcessResult>;
        try {
          r = t.cm.def.process(ctx, t.state, messages);
        } catch (e) {
          this.batchFailed(t, batch, e);
          i = j;
          continue;
        }
        if (isThenable(r)) {
          r.then(
            (res) => {
              this.finishBatch(t, batch, ctx, res);
              this.runItems(t, items, j);
            },
            (e) => {
              this.batchFailed(t, batch, e);
              this.runItems(t, items, j);
            },
          );
          return;
        }
        if (sample) this.metrics.batchSeconds.observe((performance.now() - t0) / 1000);
        this.finishBatch(t, batch, ctx, r);
        i = j;
      } else if (it.kind === 'timer') {
        i++;
        const timer = t.timers?.get(it.name);
        if (!timer || timer.gen !== it.gen) continue; // stopped or restarted since it was queued
        if (timer.every !== undefined) {
          timer.due += timer.every;
          if (timer.due <= this.clock.now()) timer.due = this.clock.now() + timer.every;
          this.timers.push(timer.due, t, it.name, timer.gen);
          this.armTimerWake();
        } else t.timers!.delete(it.name);
        this.dirty.add(t);
        const onTimer = t.cm.def.onTimer;
        if (!onTimer) continue;
        const ctx = new BatchContext(this, t);
        let r: ProcessResult | Promise<ProcessResult>;
        try {
          r = onTimer.call(t.cm.def, ctx, t.state, it.name);
        } catch (e) {
          this.batchFailed(t, [], e);
          continue;
        }
        if (isThenable(r)) {
          r.then(
            (res) => {
              this.finishBatch(t, [], ctx, res);
              this.runItems(t, items, i);
            },
            (e) => {
              this.batchFailed(t, [], e);
              this.runItems(t, items, i);
            },
          );
          return;
        }
        this.finishBatch(t, [], ctx, r);
      } else {
        i++;
        if (it.pos > t.lastPos) t.lastPos = it.pos;
        if (it.rec) it.rec.remaining--;
        else this.internalPending.delete(it.pos);
        this.removeNow(t, it.pos);
      }
    }
    t.scheduled = false;
    this.active--;
    if (t.mailbox && !t.removed) this.schedule(t);
    if (this.active === 0) this.checkWaiters();
  }

  private settleItem(item: MailItem): void {
    if (item.kind === 'msg') {
      if (item.rec) item.rec.remaining--;
      else this.internalPending.delete(item.pos);
    } else if (item.kind === 'remove') {
      if (item.rec) item.rec.remaining--;
      else this.internalPending.delete(item.pos);
    }
  }

  private settleBatch(t: Twin, batch: MsgItem[]): void {
    for (let k = 0; k < batch.length; k++) {
      const b = batch[k]!;
      if (b.rec) b.rec.remaining--;
      else this.internalPending.delete(b.pos);
    }
    if (batch.length) {
      const last = batch[batch.length - 1]!;
      if (last.pos > t.lastPos) t.lastPos = last.pos;
      if (last.source) t.source = last.source;
    }
    this.dirty.add(t);
  }

  private batchFailed(t: Twin, batch: MsgItem[], e: unknown): void {
    this.settleBatch(t, batch);
    const coded = toCoded(e);
    const code = coded.code === 'INTERNAL' ? 'MODEL_ERROR' : coded.code;
    const message = e instanceof Error ? e.message : String(e);
    t.lastError = { at: this.clock.now(), code, message };
    t.cm.failed += batch.length;
    this.reportError(t.cm.name, t.id, code, e);
  }

  private reportError(model: string, id: string, code: string, error: unknown): void {
    this.metrics.errors.labels(code).inc();
    this.log.warn({ model, id, code, err: error }, 'model failed; the batch was skipped for this twin');
    this.emit('modelError', { model, id, code, error });
  }

  private finishBatch(t: Twin, batch: MsgItem[], ctx: BatchContext, result: ProcessResult): void {
    if (!RESULTS.has(result)) {
      this.batchFailed(t, batch, new HextwinError('MODEL_ERROR', `process returned ${JSON.stringify(result)}; expected 'update', 'none' or 'remove'`));
      return;
    }
    this.settleBatch(t, batch);
    t.cm.applied += batch.length;
    const fx = ctx.effects;
    const now = this.clock.now();
    if (fx.logs) for (const l of fx.logs) this.log[l.level]({ model: t.cm.name, id: t.id }, l.text);
    if (fx.timers) for (const [name, spec] of fx.timers) this.setTimer(t, name, spec);
    if (result === 'update') {
      t.version++;
      t.updatedAt = now;
      if (t.lastError) t.lastError = null;
      this.locate(t);
      this.emit('twinChanged', { twin: t, created: t.version === 1 });
    }
    if (fx.alerts) for (const a of fx.alerts) this.raiseAlert(t, a.severity, a.title, a.message ?? null, a.data ?? null, now);
    if (fx.commands) for (const c of fx.commands) this.queueCommand(t.cm.name, t.id, c, t.source);
    if (fx.messages || fx.removals) {
      let hops = 0;
      for (let k = 0; k < batch.length; k++) if (batch[k]!.hops > hops) hops = batch[k]!.hops;
      hops++;
      if (hops > this.maxHops) {
        const err = new HextwinError('MESSAGE_LOOP', `twin-to-twin chain from ${t.cm.name}/${t.id} exceeded ${this.maxHops} hops; messages dropped`);
        t.lastError = { at: now, code: err.code, message: err.message };
        this.reportError(t.cm.name, t.id, err.code, err);
      } else {
        const source: SourceRef = { connector: 'twin', connection: t.cm.name + '/' + t.id };
        if (fx.messages) for (const m of fx.messages) this.sendInternal(m, hops, source);
        if (fx.removals) for (const r of fx.removals) this.removeInternal(r.model, r.id, hops);
      }
    }
    if (result === 'remove') this.removeNow(t, t.lastPos);
  }

  private sendInternal(envelope: Envelope, hops: number, source: SourceRef | null): void {
    const cm = this.compiled.get(envelope.model)!;
    const pos = this.nextPos++;
    this.internalPending.set(pos, { envelope, hops, source });
    if (this.route && !this.route.isLocal(envelope.model, envelope.id)) {
      this.outbox.push(pos);
      this.scheduleForward();
      return;
    }
    this.deliver(cm, envelope.id, { kind: 'msg', pos, message: envelope.message, hops, rec: null, source });
  }

  private removeInternal(model: string, id: string, hops: number): void {
    const cm = this.compiled.get(model);
    if (!cm) return;
    if (this.route && !this.route.isLocal(model, id)) {
      const pos = this.nextPos++;
      this.internalPending.set(pos, { envelope: { model, id, message: null }, control: 'remove', hops, source: null });
      this.outbox.push(pos);
      this.scheduleForward();
      return;
    }
    const t = cm.twins.get(id);
    if (!t) return;
    const pos = this.nextPos++;
    this.internalPending.set(pos, { envelope: { model, id, message: null }, control: 'remove', hops, source: null });
    this.pushRemove(t, pos, null);
  }

  private locate(t: Twin): void {
    const loc = t.cm.def.location;
    if (!loc) return;
    let p: { lat: number; lng: number } | undefined;
    try {
      p = loc.call(t.cm.def, t.state as never);
    } catch {
      p = undefined;
    }
    if (p && Number.isFinite(p.lat) && Number.isFinite(p.lng) && Math.abs(p.lat) <= 90 && Math.abs(p.lng) <= 180) {
      t.lat = p.lat;
      t.lng = p.lng;
    } else {
      t.lat = undefined;
      t.lng = undefined;
    }
  }

  private removeNow(t: Twin, pos: number): void {
    if (t.removed) return;
    t.removed = true;
    t.cm.twins.delete(t.id);
    this.dirty.delete(t);
    if (t.timers) for (const tm of t.timers.values()) tm.gen = -1;
    t.timers = null;
    this.removedSinceCheckpoint.push({ model: t.cm.name, id: t.id, lastPos: Math.max(pos, t.lastPos) });
    this.commandQueue.dropTwin(t.cm.name, t.id);
    this.emit('twinRemoved', { model: t.cm.name, id: t.id, last: t });
  }

  // ---------------------------------------------------------------- timers

  private setTimer(t: Twin, name: string, spec: { ms: number; mode: 'once' | 'recurring' } | null): void {
    if (spec === null) {
      const old = t.timers?.get(name);
      if (old) {
        old.gen = -1;
        t.timers!.delete(name);
      }
      return;
    }
    if (!t.timers) t.timers = new Map();
    const gen = (t.timers.get(name)?.gen ?? 0) + 1;
    const due = this.clock.now() + spec.ms;
    t.timers.set(name, { due, every: spec.mode === 'recurring' ? spec.ms : undefined, gen });
    this.timers.push(due, t, name, gen);
    this.armTimerWake();
  }

  private armTimerWake(): void {
    const top = this.timers.peek();
    if (!top || this.stopped) return;
    if (top.due >= this.timerWakeAt && this.timerWake) return;
    this.timerWake?.();
    this.timerWakeAt = top.due;
    this.timerWake = this.clock.wakeAt(top.due, this.fireTimers);
  }

  private readonly fireTimers = (): void => {
    this.timerWake = null;
    this.timerWakeAt = Infinity;
    const now = this.clock.now();
    for (;;) {
      const top = this.timers.peek();
      if (!top || top.due > now) break;
      this.timers.pop();
      const t = top.target;
      const tm = t.timers?.get(top.name);
      if (t.removed || !tm || tm.gen !== top.gen) continue;
      if (t.mailbox) t.mailbox.push({ kind: 'timer', name: top.name, gen: top.gen });
      else t.mailbox = [{ kind: 'timer', name: top.name, gen: top.gen }];
      this.queued++;
      if (!t.scheduled) this.schedule(t);
    }
    this.armTimerWake();
  };

  // ---------------------------------------------------------------- alerts and commands

  private raiseAlert(t: Twin, severity: Severity, title: string, message: string | null, data: JsonValue | null, at: number): void {
    const a: AlertRecord = { id: this.alertLog.nextId(at), model: t.cm.name, twinId: t.id, severity, title, message, at, acknowledged: false, data };
    this.alertLog.add(a);
    if (!t.alertIds) t.alertIds = [];
    t.alertIds.push(a.id);
    if (t.alertIds.length > 20) t.alertIds.shift();
    this.emit('alert', a);
  }

  private queueCommand(model: string, id: string, command: JsonValue, source: SourceRef | null): CommandRecord {
    const record = this.commandQueue.add(model, id, command, this.clock.now());
    this.emit('command', { record, source });
    return record;
  }

  alerts(filter: Parameters<EngineApi['alerts']>[0] = {}): AlertRecord[] {
    return this.alertLog.query(filter);
  }

  /** A twin's most recent alerts, newest first. */
  twinAlerts(model: string, id: string, limit = 20): AlertRecord[] {
    const t = this.compiled.get(model)?.twins.get(id);
    if (!t?.alertIds) return [];
    const out: AlertRecord[] = [];
    for (let i = t.alertIds.length - 1; i >= 0 && out.length < limit; i--) {
      const a = this.alertLog.get(t.alertIds[i]!);
      if (a) out.push(a);
    }
    return out;
  }

  acknowledgeAlert(id: string): AlertRecord | undefined {
    const a = this.alertLog.acknowledge(id);
    if (a) this.emit('alertAcknowledged', a);
    return a;
  }

  async sendCommand(model: string, id: string, command: JsonValue): Promise<CommandRecord> {
    const cm = this.compiled.get(model);
    if (!cm) throw new HextwinError('UNKNOWN_MODEL', `no model named ${JSON.stringify(model)}`);
    const t = cm.twins.get(id);
    const rec = this.queueCommand(model, id, command, t?.source ?? null);
    await this.store.flushed();
    return rec;
  }

  pendingCommands(model: string, id: string): CommandRecord[] {
    return this.commandQueue.pending(model, id);
  }

  async ackCommands(model: string, id: string, cids?: string[]): Promise<number> {
    const n = this.commandQueue.ack(model, id, cids);
    if (n) await this.store.flushed();
    return n;
  }

  async removeTwin(model: string, id: string): Promise<boolean> {
    const cm = this.compiled.get(model);
    if (!cm) throw new HextwinError('UNKNOWN_MODEL', `no model named ${JSON.stringify(model)}`);
    const t = cm.twins.get(id);
    if (!t) return false;
    const pos = this.nextPos++;
    const durable = this.store.append({ pos, envelopes: [{ model, id, message: null }], source: null, control: 'remove' });
    const rec: LogRecordRef = { pos, remaining: 1 };
    this.pendingRecs.push(rec);
    rec.remaining--; // settled when applied below; the log keeps it until the next checkpoint
    if (t.mailbox) t.mailbox.push({ kind: 'remove', pos });
    else t.mailbox = [{ kind: 'remove', pos }];
    this.queued++;
    if (!t.scheduled) this.schedule(t);
    await durable;
    return true;
  }

  // ---------------------------------------------------------------- reads

  /** The compiled models, for the index and the cluster. */
  compiledModels(): Iterable<CompiledModel> {
    return this.compiled.values();
  }

  models(): ModelInfo[] {
    return [...this.compiled.values()].map((cm) => ({
      name: cm.name,
      description: cm.def.description,
      twinCount: cm.twins.size,
      hasLocation: typeof cm.def.location === 'function',
      stateSchema: cm.def.stateSchema,
      messageSchema: cm.def.messageSchema,
      level: cm.def.level?.bind(cm.def),
    }));
  }

  twin(model: string, id: string): TwinView | undefined {
    return this.compiled.get(model)?.twins.get(id);
  }

  twins(model: string): Iterable<TwinView> {
    const cm = this.compiled.get(model);
    if (!cm) throw new HextwinError('UNKNOWN_MODEL', `no model named ${JSON.stringify(model)}`);
    return cm.twins.values();
  }

  twinCount(model?: string): number {
    if (model !== undefined) return this.compiled.get(model)?.twins.size ?? 0;
    let n = 0;
    for (const cm of this.compiled.values()) n += cm.twins.size;
    return n;
  }

  get mailboxDepth(): number {
    return this.queued;
  }

  on<K extends EngineEventName>(event: K, listener: (payload: EngineEvents[K]) => void): () => void {
    return this.events.on(event, listener);
  }

  private emit<K extends EngineEventName>(event: K, payload: EngineEvents[K]): void {
    this.events.emit(event, payload);
  }

  // ---------------------------------------------------------------- restore and checkpoint

  private restoreTwin(cm: CompiledModel, st: StoredTwin): void {
    const t = new Twin(cm, st.id, st.createdAt);
    t.state = st.state;
    t.lastPos = st.lastPos;
    t.version = st.version;
    t.updatedAt = st.updatedAt;
    t.source = st.source ?? null;
    t.lastError = st.lastError ?? null;
    cm.twins.set(st.id, t);
    this.locate(t);
    if (st.timers?.length) {
      t.timers = new Map();
      for (const tm of st.timers) {
        t.timers.set(tm.name, { due: tm.due, every: tm.every, gen: 1 });
        this.timers.push(tm.due, t, tm.name, 1);
      }
      this.armTimerWake();
    }
  }

  /** Enqueue the envelopes of a log record that their twins have not applied yet; returns how many. */
  private replay(rec: LogRecord): number {
    const ref: LogRecordRef = { pos: rec.pos, remaining: 0 };
    this.pendingRecs.push(ref);
    let n = 0;
    for (let i = 0; i < rec.envelopes.length; i++) {
      const e = rec.envelopes[i]!;
      const pos = rec.pos + i;
      const cm = this.compiled.get(e.model);
      if (!cm) continue;
      if ((rec.hops ?? 0) > 0 && this.route && !this.route.isLocal(e.model, e.id)) {
        // a checkpointed twin-to-twin item for a twin hosted elsewhere: forward it again
        this.internalPending.set(pos, { envelope: e, hops: rec.hops!, source: rec.source ?? null, ...(rec.control ? { control: rec.control } : {}) });
        this.outbox.push(pos);
        n++;
        continue;
      }
      const t = cm.twins.get(e.id);
      if (t && pos <= t.lastPos) continue;
      if (!t && pos <= (this.tombstones.get(e.model + '/' + e.id) ?? 0)) continue;
      n++;
      if (rec.control === 'remove') {
        if (!t) continue;
        this.internalPending.set(pos, { envelope: e, control: 'remove', hops: rec.hops ?? 0, source: null });
        if (t.mailbox) t.mailbox.push({ kind: 'remove', pos });
        else t.mailbox = [{ kind: 'remove', pos }];
        this.queued++;
        if (!t.scheduled) this.schedule(t);
        continue;
      }
      if ((rec.hops ?? 0) > 0) {
        this.internalPending.set(pos, { envelope: e, hops: rec.hops!, source: rec.source ?? null });
        this.deliver(cm, e.id, { kind: 'msg', pos, message: e.message, hops: rec.hops!, rec: null, source: rec.source ?? null });
      } else {
        ref.remaining++;
        this.deliver(cm, e.id, { kind: 'msg', pos, message: e.message, hops: 0, rec: ref, source: rec.source ?? null });
      }
    }
    return n;
  }

  private precreate(cm: CompiledModel): void {
    if (!cm.reference) return;
    for (const id of cm.reference.keys()) {
      if (cm.twins.has(id) || !isTwinId(id)) continue;
      if (this.route && !this.route.isLocal(cm.name, id)) continue;
      try {
        const t = this.getOrCreate(cm, id);
        t.version = 1;
        this.locate(t);
        this.dirty.add(t);
        this.emit('twinChanged', { twin: t, created: true });
      } catch (e) {
        this.reportError(cm.name, id, 'MODEL_ERROR', e);
      }
    }
  }

  /** The lowest log position some unapplied message still needs. */
  private lowWater(): number {
    while (this.pendingHead < this.pendingRecs.length && this.pendingRecs[this.pendingHead]!.remaining <= 0) this.pendingHead++;
    if (this.pendingHead > 1024) {
      this.pendingRecs = this.pendingRecs.slice(this.pendingHead);
      this.pendingHead = 0;
    }
    let low = this.pendingRecs[this.pendingHead]?.pos ?? this.nextPos;
    for (const pos of this.internalPending.keys()) {
      if (pos < low) low = pos;
      break; // insertion order is position order
    }
    return low;
  }

  /** Hand checkpointed items for twins hosted elsewhere to the route; on failure they wait for the next checkpoint. */
  private forward(positions: number[]): void {
    const items: ForwardItem[] = [];
    for (const pos of positions) {
      const p = this.internalPending.get(pos);
      if (p) items.push({ pos, envelope: p.envelope, hops: p.hops, source: p.source, ...(p.control ? { control: p.control } : {}) });
    }
    if (!items.length) return;
    this.route!.forward(items).then(
      () => {
        for (const it of items) this.internalPending.delete(it.pos);
      },
      (e) => {
        this.log.warn({ err: e, items: items.length }, 'forwarding twin-to-twin messages failed; retrying after the next checkpoint');
        this.outbox = positions.concat(this.outbox);
      },
    );
  }

  /** Checkpoint soon so that queued items for twins hosted elsewhere do not wait for the periodic one. */
  private scheduleForward(): void {
    if (this.forwardTimer || this.checkpointMs <= 0 || !this.ready_) return;
    this.forwardTimer = setTimeout(() => {
      this.forwardTimer = null;
      if (!this.stopped) void this.checkpoint().catch((e) => this.failStore(e));
    }, this.route?.delayMs ?? 20);
    this.forwardTimer.unref();
  }

  /** Twin-to-twin items waiting for a checkpoint before they can be forwarded. */
  get outboxSize(): number {
    return this.outbox.length;
  }

  /**
   * Checkpoints cost main-thread time (encoding changed twins), so under heavy load they are
   * spaced out to keep that cost near a tenth of the time; replay after a crash grows accordingly.
   */
  private scheduleCheckpoint(delay: number): void {
    if (this.stopped) return;
    this.checkpointTimer = setTimeout(() => {
      this.checkpoint().then(
        () => this.scheduleCheckpoint(Math.max(this.checkpointMs, this.lastCheckpointCost * 10)),
        (e) => this.failStore(e),
      );
    }, delay);
    this.checkpointTimer.unref();
  }

  /** Write changed twins, pending internal messages and the truncation point, atomically. */
  checkpoint(): Promise<void> {
    if (this.checkpointing) return this.checkpointing;
    if (this.fatal) return Promise.resolve();
    this.checkpointing = this.writeCheckpoint().finally(() => {
      this.checkpointing = null;
    });
    return this.checkpointing;
  }

  private stored(t: Twin): StoredTwin {
    return {
      model: t.cm.name,
      id: t.id,
      state: t.state,
      lastPos: t.lastPos,
      createdAt: t.createdAt,
      updatedAt: t.updatedAt,
      version: t.version,
      timers: t.timers ? [...t.timers].map(([name, tm]) => ({ name, due: tm.due, ...(tm.every !== undefined ? { every: tm.every } : {}) })) : undefined,
      source: t.source,
      lastError: t.lastError,
    };
  }

  private async writeCheckpoint(): Promise<void> {
    const t0 = performance.now();
    let cost = 0;
    const encode = this.store.encodeTwin?.bind(this.store);
    const encoded = new Map<Twin, Uint8Array>();
    if (encode && this.dirty.size > CHECKPOINT_SLICE) {
      // encode in slices between other work; twins that change meanwhile are encoded again below
      const slice = [...this.dirty];
      this.dirty.clear();
      for (let i = 0; i < slice.length; i += CHECKPOINT_SLICE) {
        const s0 = performance.now();
        for (let k = i; k < Math.min(slice.length, i + CHECKPOINT_SLICE); k++) {
          const t = slice[k]!;
          if (!t.removed) encoded.set(t, encode(this.stored(t)));
        }
        cost += performance.now() - s0;
        await new Promise((r) => setImmediate(r));
      }
    }
    // the final slice is synchronous: together with the slices above it is a consistent cut now
    const s0 = performance.now();
    const twins: StoredTwin[] = [];
    for (const t of this.dirty) {
      if (encode) encoded.set(t, encode(this.stored(t)));
      else twins.push(this.stored(t));
    }
    this.dirty.clear();
    const list = [];
    for (const [t, bytes] of encoded) if (!t.removed) list.push({ model: t.cm.name, id: t.id, bytes });
    const pending: LogRecord[] = [];
    for (const [pos, p] of this.internalPending) {
      pending.push({ pos, envelopes: [p.envelope], source: p.source, hops: Math.max(1, p.hops), ...(p.control ? { control: p.control } : {}) });
    }
    const cp: Checkpoint = { twins, encoded: list, removed: this.removedSinceCheckpoint, pending, truncateBelow: this.lowWater(), nextPos: this.nextPos };
    this.removedSinceCheckpoint = [];
    const outgoing = this.outbox;
    this.outbox = [];
    const written = this.store.checkpoint(cp);
    cost += performance.now() - s0;
    this.lastCheckpointCost = cost;
    await written;
    this.metrics.checkpointSeconds.observe((performance.now() - t0) / 1000);
    // durable now: items for twins hosted elsewhere can go
    if (outgoing.length) this.forward(outgoing);
    if (this.outbox.length) this.scheduleForward();
  }
}
