/**
 * One interface for every destination (NATS, NDJSON files, webhooks, PostgreSQL): the durable
 * queue hands a sink a batch, in order; the sink resolves once the destination has all of it, or
 * throws. A throw retries the whole batch later (at-least-once); a `SinkRefused` throw means the
 * destination will never take this batch (a 4xx), and it is dropped and counted.
 */
import type { SinkEvent } from './events.js';

export interface Sink {
  readonly name: string;
  /** connect, create what is missing (a table, a directory); may throw: the feature retries */
  open(): Promise<void>;
  deliver(batch: readonly SinkEvent[]): Promise<void>;
  close(): Promise<void>;
}

export class SinkRefused extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SinkRefused';
  }
}

/** Reject after `ms` unless `p` settles first (a destination that hangs counts as failed). */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(t)),
    new Promise<never>((_, reject) => {
      t = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
      t.unref();
    }),
  ]);
}
