/**
 * What every device connector (REST, WebSocket, MQTT) is to the rest of the server: it turns its
 * transport's frames into envelopes, acknowledges them once the engine says they are durable, and
 * may carry commands back to the devices it holds a channel to.
 */
import type { CommandRecord, SourceRef } from '../engine/types.js';

export const ConnectorState = {
  /** not started, or stopped */
  Stopped: 'stopped',
  /** serving, or connected to its broker */
  Up: 'up',
  /** trying to reach its broker (with back-off) */
  Connecting: 'connecting',
  /** in a cluster, another node takes this input in (see EngineApi.roles) */
  Standby: 'standby',
} as const;
export type ConnectorState = (typeof ConnectorState)[keyof typeof ConnectorState];

export interface ConnectorStatus {
  state: ConnectorState;
  /** open device connections (WebSocket), or 1/0 for a broker connection (MQTT) */
  connections: number;
}

export interface Connector {
  /** the SourceRef connector name of the messages it ingests: 'rest', 'ws', 'mqtt' */
  readonly name: string;
  start(): Promise<void>;
  /** Stop taking input and close connections; resolves once closed. */
  stop(): Promise<void>;
  status(): ConnectorStatus;
  /**
   * Push a command live to the device behind `source` (a SourceRef this connector produced).
   * Returns false when the device is not reachable now: the command stays queued for pull (REST) or
   * a later attempt. Absent for connectors without a push channel (REST).
   */
  deliverCommand?(record: CommandRecord, source: SourceRef): boolean;
}
