/**
 * What the engine offers the rest of the server (connectors, API, cluster): the contract, apart
 * from the machinery in engine.ts.
 */
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { AlertInput, JsonValue, ModelDefinition, ReferenceRow, Severity } from '@hextwin/shared';
import type { Clock } from './clock.js';
import type { AggregateSource } from './context.js';
import type { EngineMetrics } from './metrics.js';
import type { ModelWatchdog } from './watchdog.js';
import type { TwinStore } from '../store/store.js';
import type { RawBatch } from '../store/raw-batch.js';

/** Where a message came from, so `sendToSource` can find the way back. */
export interface SourceRef {
  /** Connector name: 'rest', 'ws', 'mqtt', 'graphql', 'twin', 'timer', ... */
  connector: string;
  /** Connection id within the connector (a WebSocket connection), when it has one. */
  connection?: string;
  /** Cluster node that holds the connection (set by the cluster when it accepts a message). */
  node?: string;
}

/** One message addressed to one twin. */
export interface Envelope {
  model: string;
  id: string;
  message: JsonValue;
}

/**
 * An alarm on a twin. Typed alarms are de-duplicated per (model, twin, type) while ACTIVE: a repeat
 * raises `count` and `lastAt` (and may change the severity, title, message and data); once CLEARED,
 * the next raise of that type opens a new alarm. An alert without a type is an alarm of its own.
 */
export interface AlertRecord {
  id: string;
  model: string;
  twinId: string;
  severity: Severity;
  title: string;
  message: string | null;
  /** epoch ms, engine clock: when the alarm was raised (= firstAt) */
  at: number;
  acknowledged: boolean;
  data: JsonValue | null;
  // The alarm lifecycle. Optional because records stored before it (and those of older cluster
  // nodes) lack it: read them as an active, untyped alarm raised once at `at` (alert-log.ts `alarmOf`).
  /** null: raised without a type (never de-duplicated) */
  type?: string | null;
  status?: AlarmStatus;
  /** raises of this alarm, the first included */
  count?: number;
  firstAt?: number;
  /** the latest raise */
  lastAt?: number;
  clearedAt?: number | null;
  assignee?: string | null;
  /** oldest first, the last few kept */
  comments?: AlarmComment[];
  /** the latest lifecycle change, and how many changes the alarm has seen (orders copies of it) */
  change?: AlarmChange;
  rev?: number;
}

/** An alert record with its lifecycle filled in. */
export type Alarm = AlertRecord &
  Required<Pick<AlertRecord, 'type' | 'status' | 'count' | 'firstAt' | 'lastAt' | 'clearedAt' | 'assignee' | 'comments' | 'change' | 'rev'>>;

export type AlarmStatus = 'ACTIVE' | 'CLEARED';
export type AlarmChange = 'RAISE' | 'REPEAT' | 'SEVERITY' | 'CLEAR' | 'ACK' | 'ASSIGN' | 'COMMENT';
export interface AlarmComment {
  at: number;
  author: string;
  text: string;
}

/** One sample of a twin's state history. */
export interface HistoryEntry {
  at: number;
  state: JsonValue;
}

export interface AlertQuery {
  model?: string;
  twinId?: string;
  minSeverity?: Severity;
  /** alarms raised (first or again) at or after this time */
  since?: number;
  acknowledged?: boolean;
  status?: AlarmStatus;
  type?: string;
  severity?: Severity[];
  limit?: number;
}

export interface CommandRecord {
  /** unique, increasing: a device acknowledges commands by these ids */
  cid: string;
  model: string;
  id: string;
  command: JsonValue;
  /** epoch ms, engine clock */
  at: number;
}

export interface TwinError {
  at: number;
  code: string;
  message: string;
}

/** A read-only view of a twin. `state` is live: copy it before holding on to it across awaits. */
export interface TwinView {
  readonly model: string;
  readonly id: string;
  readonly state: unknown;
  readonly lat: number | undefined;
  readonly lng: number | undefined;
  readonly createdAt: number;
  readonly updatedAt: number;
  /**
   * Messages (and timer firings) applied in batches that updated the state: it grows with every
   * change, and the same version means the same state even when a crash replay batches the
   * messages differently (sinks' event ids rely on it).
   */
  readonly version: number;
  readonly lastError: TwinError | null;
}

/** Typed event topics of the engine (one map, as pub/sub topics). */
export interface EngineEvents {
  /** A twin's state changed (created or updated). */
  twinChanged: { twin: TwinView; created: boolean };
  /** A twin was removed; `last` is its final view. */
  twinRemoved: { model: string; id: string; last: TwinView };
  alert: AlertRecord;
  alertAcknowledged: AlertRecord;
  /** A command for a device; connectors deliver it live where they hold the device's connection. */
  command: { record: CommandRecord; source: SourceRef | null };
  /** A model threw (or a twin's effects were refused); that batch failed for that twin only. */
  modelError: { model: string; id: string; code: string; error: unknown };
  /** A twin (or model) was quarantined: its code will not run until released. */
  quarantined: QuarantineRecord;
  /** Ready after restore. */
  ready: Record<string, never>;
}

export type EngineEventName = keyof EngineEvents;

export interface ModelInfo {
  name: string;
  description: string | undefined;
  twinCount: number;
  hasLocation: boolean;
  stateSchema: unknown;
  messageSchema: unknown;
  /** the model's `level(state)`, when it declares one */
  level?: (state: unknown) => unknown;
  /** the aggregates its code reads with `ctx.aggregate` */
  aggregates?: ModelDefinition['aggregates'];
  /** recording from the start (recording/recorder.ts) */
  record?: ModelDefinition['record'];
}

export interface IngestOptions {
  source?: SourceRef;
  /** the caller (a connector's admission) already ran `validate` on exactly these envelopes */
  validated?: boolean;
  /** the bytes these envelopes were parsed from, when the store may log those instead (see store/raw-batch.ts) */
  raw?: RawBatch;
}

/** A twin (or a whole model, id '*') whose code is not run any more until an operator releases it. */
export interface QuarantineRecord {
  model: string;
  /** '*' quarantines every twin of the model */
  id: string;
  /** MODEL_TIMEOUT, STATE_UNENCODABLE, ... */
  code: string;
  reason: string;
  /** epoch ms, wall clock */
  at: number;
}

/**
 * The engine as the rest of the server sees it. Implemented by the embedded Engine; the cluster
 * node implements the same surface over NATS.
 */
export interface EngineApi {
  readonly ready: boolean;
  /** Validate, log durably, and enqueue. Resolves once durable; throws coded errors (whole batch refused). */
  ingest(envelopes: Envelope[], options?: IngestOptions): Promise<void>;
  /** Throws the coded error `ingest` would refuse these envelopes with (model, id, schema); logs nothing. */
  validate(envelopes: Envelope[]): void;
  /** True when mailboxes are over the high-water mark: connectors should back off. */
  readonly overloaded: boolean;
  /** Resolves when mailboxes are below the low-water mark again. */
  whenAccepting(): Promise<void>;
  hasModel(model: string): boolean;
  models(): ModelInfo[];
  twin(model: string, id: string): TwinView | undefined;
  twins(model: string): Iterable<TwinView>;
  twinCount(model?: string): number;
  alerts(filter?: AlertQuery): AlertRecord[];
  /** A twin's most recent alerts, newest first. */
  twinAlerts(model: string, id: string, limit?: number): AlertRecord[];
  acknowledgeAlert(id: string): AlertRecord | undefined;
  /** Operator side of the alarm lifecycle (embedded engine; undefined when the alarm is unknown). */
  clearAlertById?(id: string): AlertRecord | undefined;
  assignAlert?(id: string, assignee: string | null): AlertRecord | undefined;
  commentAlert?(id: string, author: string, text: string): AlertRecord | undefined;
  /**
   * Raise an alarm on a twin from outside its model (a geofence's alarm), through the same
   * lifecycle as `ctx.alert` (typed: de-duplicated while ACTIVE). Undefined when the twin is not
   * hosted here (unknown, or owned by another cluster node).
   */
  raiseAlert?(model: string, id: string, input: AlertInput & { type: string }): AlertRecord | undefined;
  /** Clear a twin's ACTIVE alarm of `type`, as `ctx.clearAlert` does; undefined when none is active here. */
  clearAlertByType?(model: string, id: string, type: string): AlertRecord | undefined;
  /** A twin's last states, newest first (models that opt in with `history`). */
  twinHistory?(model: string, id: string, limit: number): HistoryEntry[];
  /** Messages waiting in mailboxes. */
  readonly mailboxDepth: number;
  sendCommand(model: string, id: string, command: JsonValue): Promise<CommandRecord>;
  pendingCommands(model: string, id: string): CommandRecord[];
  ackCommands(model: string, id: string, cids?: string[]): Promise<number>;
  removeTwin(model: string, id: string): Promise<boolean>;
  on<K extends EngineEventName>(event: K, listener: (payload: EngineEvents[K]) => void): () => void;
  now(): number;
  /** Twins (or models) whose code is not run: a model that hung, or a state that cannot be stored. */
  quarantined?(): QuarantineRecord[];
  /** Let a quarantined twin run again; resolves true if it was quarantined. */
  releaseQuarantine?(model: string, id: string): Promise<boolean>;
  /**
   * Cluster only: input a single node at a time must take in. `mqtt`: the node holding it runs the
   * MQTT subscription, on the cluster's one persistent broker session, so each device's messages
   * arrive once and in order. Absent on the embedded engine (it takes everything in).
   */
  readonly roles?: IngestRoles;
  /** Call `fn` once the engine clock (virtual in simulations) reaches `at`; returns a cancel function. */
  wakeAt?(at: number, fn: () => void): () => void;
  /** Where the models' `ctx.aggregate` reads from (index/feedback.ts). */
  setAggregateSource?(source: AggregateSource | null): void;
  /** Called with every batch this node accepts from outside (recording/recorder.ts); null removes it. */
  setIngestTap?(tap: IngestTap | null): void;
  /**
   * `fn` runs in every checkpoint round after the cut, and the round commits (and may truncate the
   * log) only once it resolves: a feature that holds events derived from applied messages in
   * memory (sinks) makes them durable here, so a crash never loses events of changes the
   * checkpoint covers. Returns a function that removes it.
   */
  beforeCheckpointCommit?(fn: () => Promise<void>): () => void;
  /**
   * Cluster: whether this node applies the twin's messages now (owns its partition). A feature
   * that acts once per cluster on an event every node hears (alert webhooks) acts only where this
   * is true. Absent on the embedded engine: it hosts every twin.
   */
  hosts?(model: string, id: string): boolean;
}

/** Sees accepted batches on the ingest path: must be cheap (O(1) when nothing is recorded). */
export type IngestTap = (envelopes: readonly Envelope[], source: SourceRef | null) => void;

export type IngestRole = 'mqtt';

export interface IngestRoles {
  holds(role: IngestRole): boolean;
  /** Called with true when this node takes the role, false when it gives it up; returns an unsubscribe function. */
  on(role: IngestRole, listener: (held: boolean) => void): () => void;
}

// ---------------------------------------------------------------- construction and hosting

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
  /** most twins per model (0: no limit); a message that would create one more is refused with TOO_MANY_TWINS */
  maxTwinsPerModel?: number;
  /** most twins in all (0: no limit) */
  maxTwins?: number;
  /** ms an async batch may take before it fails with MODEL_TIMEOUT and the twin is quarantined (0: no limit) */
  modelAsyncTimeoutMs?: number;
  /**
   * ms a synchronous model call may block the event loop before the watchdog quarantines the twin
   * and ends the process (a supervisor restarts it; the quarantine survives). 0: no watchdog.
   */
  modelWatchdogMs?: number;
  /** directory for the watchdog's note of a hung twin (the data directory); without it there is no watchdog */
  stateDir?: string;
  /** the process's watchdog, started by whoever hosts several engines (the cluster node); `modelWatchdogMs` and `stateDir` are then unused */
  watchdog?: ModelWatchdog;
  /**
   * Quarantine records kept outside the store (the cluster's bucket), read at start before the log
   * is replayed and authoritative: the store's own records missing there are dropped (released
   * elsewhere), so a twin that hung one node is not replayed into another.
   */
  quarantineSource?: () => Promise<QuarantineRecord[]>;
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
