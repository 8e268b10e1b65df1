/**
 * The model API: everything a model author needs, and nothing of the platform's internals.
 *
 * A model turns the messages of one data source into the state of its twin. The platform calls
 * `init` when the first message for an id arrives, then `process` with batches of that twin's
 * messages in arrival order. One twin never runs two batches at once; different twins run side
 * by side. If `process` throws, that batch fails for this twin alone: its effects (alerts, commands,
 * messages, timers) are dropped and the error is recorded on the twin, but changes already made to
 * `state` in place are kept, so validate before mutating. Read time from `ctx.now()` or from the messages themselves, never from `Date.now()`:
 * the engine clock is virtual in tests and simulations.
 */
import type { JsonValue } from './json.js';

export const Severity = { INFO: 'INFO', WARNING: 'WARNING', ERROR: 'ERROR', CRITICAL: 'CRITICAL' } as const;
export type Severity = (typeof Severity)[keyof typeof Severity];
export const SEVERITY_RANK: Record<Severity, number> = { INFO: 0, WARNING: 1, ERROR: 2, CRITICAL: 3 };

/** What `process` and `onTimer` tell the engine: keep the new state, nothing changed, or delete the twin. */
export type ProcessResult = 'update' | 'none' | 'remove';

export interface AlertInput {
  severity: Severity;
  title: string;
  message?: string;
  data?: JsonValue;
  /**
   * The alarm's type. While the twin has an active alarm of this type, raising it again repeats
   * that alarm (count, last time, severity) instead of adding one; `ctx.clearAlert(type)` clears it.
   * Without a type every alert is an alarm of its own.
   */
  type?: string;
}

/** Keep each twin's last `limit` states (durable), at most one every `everyMs`: `Twin.history` in GraphQL. */
export interface HistorySpec<S = any> {
  limit: number;
  everyMs?: number;
  /** What to keep of the state (default: all of it); keep it small, it is copied per sample. */
  pick?(state: S): JsonValue;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type TimerMode = 'once' | 'recurring';

/** Per-model key/value data shared by all twins of a model; durable. */
export interface SharedData {
  get<T extends JsonValue = JsonValue>(key: string): T | undefined;
  set(key: string, value: JsonValue): void;
  delete(key: string): void;
}

/** A row of reference data (CSV or JSON) for this twin, or undefined when none matches its id. */
export type ReferenceRow = Record<string, JsonValue>;

/**
 * Who sent the messages of the current batch (a batch never mixes senders of different kinds):
 * a device through a connector, another twin, an operator through the API, or a timer firing.
 * A model that trusts only twins for some messages (an exposure notice) checks `kind === 'twin'`.
 */
export type MessageOrigin = { kind: 'device'; connector: string } | { kind: 'twin'; model: string; id: string } | { kind: 'operator' } | { kind: 'timer' };

export interface SendOptions {
  /** false: deliver only if the twin exists (a device cannot create twins by naming them). Default true. */
  create?: boolean;
}

export interface TwinContext {
  readonly model: string;
  readonly id: string;
  /** Who sent this batch's messages. */
  readonly from: MessageOrigin;
  /** The engine clock in epoch milliseconds (virtual in tests and simulations). */
  now(): number;
  /** Send a command back to the device, through the connector it came from (or queued for REST pull). */
  sendToSource(command: JsonValue): void;
  /** Send a message to another twin (created if missing, unless `create: false`). Processed after this batch, in order. */
  sendToTwin(model: string, id: string, message: JsonValue, options?: SendOptions): void;
  alert(alert: AlertInput): void;
  /** Clear this twin's active alarm of `type` (nothing happens when there is none). */
  clearAlert(type: string): void;
  log(level: LogLevel, text: string): void;
  /** Start (or restart) a named timer that calls `onTimer` after `ms`. Persisted with the twin. */
  startTimer(name: string, ms: number, mode?: TimerMode): void;
  stopTimer(name: string): void;
  hasTimer(name: string): boolean;
  /** Remove a twin (this one or another) after this batch. */
  removeTwin(model: string, id: string): void;
  readonly shared: SharedData;
  /** This twin's reference-data row, when the model declares reference data. */
  readonly reference: ReferenceRow | undefined;
  /**
   * The latest result of one of the model's declared `aggregates` (refreshed every `everyMs`):
   * without `key`, every group; with `key`, that group, or undefined when no twin is in it.
   * An undeclared name throws UNKNOWN_AGGREGATE.
   */
  aggregate(name: string): AggregateGroup[];
  aggregate(name: string, key: JsonValue): AggregateGroup | undefined;
}

export interface InitContext {
  readonly model: string;
  readonly id: string;
  now(): number;
  readonly reference: ReferenceRow | undefined;
}

/** A JSON Schema (draft 2020-12 subset) describing messages or state. */
export type JsonSchema = { [key: string]: JsonValue | JsonSchema };

export interface ReferenceDataSpec {
  /** Path to a .csv or .json file; relative paths resolve against the process working directory or MODELS_DIR. */
  file: string;
  /** Column or property holding the twin id. Default "id". */
  idField?: string;
  /** Create a twin (init only) for every row at start. */
  precreate?: boolean;
}

/**
 * What a simulation model's `simulate` step may do. Its instances are simulated data sources (not
 * real-time twins): they live in the simulation, on the simulation's virtual clock.
 */
export interface SimulationContext {
  readonly model: string;
  readonly id: string;
  /** The simulation clock in epoch milliseconds. */
  now(): number;
  /** Telemetry to the real-time twin of this id (model `simulation.target`), or to any model's twin; a simulation model's instance gets it in `process`. */
  emit(message: JsonValue, to?: { model: string; id: string }): void;
  /** Run the next step `ms` from now (default: the model's `simulation.stepMs`). */
  delay(ms: number): void;
  /** No next step until a message arrives (a command from the twin, or another instance's emit). */
  delayIndefinitely(): void;
  /** A new instance of a simulation model; `init` is merged over that model's `init` state. */
  createTwin(model: string, id: string, init?: Record<string, JsonValue>): void;
  /** This instance leaves the simulation after this step. */
  removeSelf(): void;
  /** The whole simulation ends after this step. */
  stopSimulation(): void;
  log(level: LogLevel, text: string): void;
}

/** How a simulation model's instances come about and step. */
export interface SimulationSpec {
  /**
   * How many instances (ids `{name}-0001`…), their ids as a list, or a .csv/.json file of rows
   * (column `idField`), each row the instance's reference.
   */
  instances: number | string | readonly string[];
  idField?: string;
  /** Prefix of counted instance ids; default the model's name. */
  idPrefix?: string;
  /** The real-time model `ctx.emit(message)` goes to (same id); default: this model's name. */
  target?: string;
  /** Time between steps unless the step calls `ctx.delay`; default 60,000. */
  stepMs?: number;
}

/** One group of an aggregate: `values` in the order of the aggregate's `metrics`. */
export interface AggregateGroup {
  key: JsonValue;
  count: number;
  values: (number | null)[];
}

/** An aggregate over the twins of a model (any model), kept up to date for `ctx.aggregate`. */
export interface AggregateSpec {
  model: string;
  /** a filter in the GraphQL `TwinFilter` shape */
  where?: JsonValue;
  /** a dotted path into state; without it, one group with key null */
  groupBy?: string;
  metrics?: { field?: string; op: 'COUNT' | 'SUM' | 'AVG' | 'MIN' | 'MAX' }[];
  /** how often the value a model sees is refreshed; default 1000 */
  everyMs?: number;
}

/** Record this model's incoming messages (NDJSON under DATA_DIR/recordings), up to either bound. */
export interface RecordSpec {
  maxBytes?: number;
  maxMs?: number;
}

export interface ModelDefinition<S = any, M = any> {
  /** Unique model name: letters, digits, '-', '_', '.'. */
  readonly name: string;
  init(id: string, ctx: InitContext): S;
  process(ctx: TwinContext, state: S, messages: M[]): ProcessResult | Promise<ProcessResult>;
  onTimer?(ctx: TwinContext, state: S, timer: string): ProcessResult | Promise<ProcessResult>;
  /** Where the twin is, for maps and geo queries. */
  location?(state: S): { lat: number; lng: number } | undefined;
  /**
   * How alarming the twin's state is by itself, or undefined when it is normal: `Twin.level` in
   * GraphQL, the colour of its dot on the map, and `{ field: "$level" }` in filters.
   */
  level?(state: S): Severity | undefined;
  /** Validates each incoming message; a failing message is refused with INVALID_MESSAGE naming the field. */
  messageSchema?: JsonSchema;
  /** Describes the state, for typed GraphQL types and filters. */
  stateSchema?: JsonSchema;
  reference?: ReferenceDataSpec;
  /** Opt in to a state history per twin (off by default: each sample copies the state). */
  history?: HistorySpec<S>;
  /** Named aggregates this model's code reads with `ctx.aggregate(name, key?)`. */
  aggregates?: Record<string, AggregateSpec>;
  /** Record incoming messages from the start (an operator can also start a recording at run time). */
  record?: RecordSpec;
  description?: string;
  /**
   * A simulation model: the platform runs `simulate` for each instance on the simulation clock
   * (`pnpm simulate`, SIMULATION_SPEED); `process` gets the messages sent to an instance.
   */
  simulate?(ctx: SimulationContext, state: S, now: number): void | Promise<void>;
  simulation?: SimulationSpec;
}

const MODEL_NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;

/** Declare a model. Checks the definition's shape so mistakes surface at load, not at the first message. */
export function defineModel<S, M = unknown>(def: ModelDefinition<S, M>): ModelDefinition<S, M> {
  if (!MODEL_NAME.test(def.name)) throw new Error(`model name "${def.name}" must match ${MODEL_NAME}`);
  if (typeof def.init !== 'function') throw new Error(`model ${def.name}: init must be a function`);
  if (typeof def.process !== 'function') throw new Error(`model ${def.name}: process must be a function`);
  const h = def.history;
  if (h !== undefined && !(Number.isInteger(h.limit) && h.limit >= 1 && h.limit <= 1000 && (h.everyMs === undefined || h.everyMs >= 0)))
    throw new Error(`model ${def.name}: history needs a whole limit from 1 to 1000 and everyMs >= 0`);
  return def;
}

export function isModelName(name: string): boolean {
  return MODEL_NAME.test(name);
}

/** A lone surrogate: not well-formed UTF-16, so not encodable as UTF-8 (stores and JSON would turn it into U+FFFD). */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Twin ids: 1 to 256 characters, printable, no control characters, well-formed UTF-16. */
export function isTwinId(id: string): boolean {
  // eslint-disable-next-line no-control-regex
  return id.length > 0 && id.length <= 256 && !/[\u0000-\u001f\u007f]/.test(id) && !LONE_SURROGATE.test(id);
}

/** Event time of a message field given as epoch ms or an ISO 8601 string; undefined when absent or invalid. */
export function eventTime(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string') {
    const t = Date.parse(value);
    return Number.isNaN(t) ? undefined : t;
  }
  return undefined;
}
