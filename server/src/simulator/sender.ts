/** How the simulator hands messages to a server: one interface, one small file per connector. */
import type { JsonValue } from '@hextwin/shared';
import type { WireEnvelope } from './fleet.js';

export interface SenderStats {
  /** messages handed to the connection */
  sent: number;
  /** messages the server acknowledged as durable */
  acked: number;
  /** messages the server refused (they are not retried) */
  errors: number;
  /** messages sent again: after a reconnect, or after the server asked to back off */
  resent: number;
  /** frames or requests awaiting their acknowledgement */
  inFlight: number;
  reconnects: number;
  /** commands the server pushed back to the simulated devices */
  commands: number;
}

export interface DeviceCommand {
  model: string;
  id: string;
  command: JsonValue;
}

export interface Sender {
  /**
   * Hands over a batch. Resolves as soon as the in-flight window has room for more (not when
   * acknowledged), so a slow server slows the simulator down instead of growing its memory.
   * Rejects once the sender has failed for good (the server refused the key).
   */
  send(batch: WireEnvelope[]): Promise<void>;
  /** Resolves once everything handed over is acknowledged or refused, or the timeout passed; true when nothing is left. */
  flush(timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
  readonly stats: Readonly<SenderStats>;
  onCommand(listener: (command: DeviceCommand) => void): void;
}

export function emptyStats(): SenderStats {
  return { sent: 0, acked: 0, errors: 0, resent: 0, inFlight: 0, reconnects: 0, commands: 0 };
}

/** Error codes after which the same frame or request may succeed later. */
export const RETRYABLE_CODES: ReadonlySet<string> = new Set(['OVERLOADED', 'RATE_LIMITED', 'NOT_READY', 'SHUTTING_DOWN', 'STORE_FAILED']);

/** Logs the first few failures of a kind, then one in every `every`, so a broken target cannot flood the log. */
export class FailureLog {
  private count = 0;
  constructor(
    private readonly log: (count: number, text: string) => void,
    private readonly first = 10,
    private readonly every = 1000,
  ) {}

  report(text: string): void {
    this.count++;
    if (this.count <= this.first || this.count % this.every === 0) this.log(this.count, text);
  }
}
