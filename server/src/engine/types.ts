/**
 * What the engine offers the rest of the server (connectors, API, cluster): the contract, apart
 * from the machinery in engine.ts.
 */
import type { JsonValue, Severity } from '@hextwin/shared';

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

export interface AlertRecord {
  id: string;
  model: string;
  twinId: string;
  severity: Severity;
  title: string;
  message: string | null;
  /** epoch ms, engine clock */
  at: number;
  acknowledged: boolean;
  data: JsonValue | null;
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
  /** increases on every applied state change */
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
}

export interface IngestOptions {
  source?: SourceRef;
  validated?: boolean;
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
  alerts(filter?: { model?: string; twinId?: string; minSeverity?: Severity; since?: number; acknowledged?: boolean; limit?: number }): AlertRecord[];
  /** A twin's most recent alerts, newest first. */
  twinAlerts(model: string, id: string, limit?: number): AlertRecord[];
  acknowledgeAlert(id: string): AlertRecord | undefined;
  /** Messages waiting in mailboxes. */
  readonly mailboxDepth: number;
  sendCommand(model: string, id: string, command: JsonValue): Promise<CommandRecord>;
  pendingCommands(model: string, id: string): CommandRecord[];
  ackCommands(model: string, id: string, cids?: string[]): Promise<number>;
  removeTwin(model: string, id: string): Promise<boolean>;
  on<K extends EngineEventName>(event: K, listener: (payload: EngineEvents[K]) => void): () => void;
  now(): number;
  /**
   * Cluster only: input a single node at a time must take in. `mqtt`: the node holding it runs the
   * MQTT subscription, on the cluster's one persistent broker session, so each device's messages
   * arrive once and in order. Absent on the embedded engine (it takes everything in).
   */
  readonly roles?: IngestRoles;
}

export type IngestRole = 'mqtt';

export interface IngestRoles {
  holds(role: IngestRole): boolean;
  /** Called with true when this node takes the role, false when it gives it up; returns an unsubscribe function. */
  on(role: IngestRole, listener: (held: boolean) => void): () => void;
}
