/**
 * The alert webhooks' durable queue: every body a webhook still owes is kept in an LMDB
 * environment of its own (DATA_DIR/webhooks), keyed by (webhook, sequence), and removed once the
 * webhook took it or gave it up. A restart, or a kill -9, picks up where the senders left off:
 * at-least-once, with the same `x-hextwin-delivery` id so a receiver can drop a repeat.
 *
 * Writes go to LMDB's asynchronous batch (one transaction per turn); `flushed()` resolves when all
 * of them are on disk. The feature awaits it before each engine checkpoint commits, so a body
 * owed for an alert the log would forget is durable first.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { open, type Database, type RootDatabase } from 'lmdb';

export interface JournalEntry {
  seq: number;
  body: string;
  headers: Record<string, string>;
}

export interface WebhookJournal {
  /** bodies still owed to `hook` from before a restart, oldest first */
  pending(hook: string): JournalEntry[];
  /** keep a body owed to `hook`; returns its sequence number */
  add(hook: string, body: string, headers: Record<string, string>): number;
  /** `hook` took the body, or gave it up */
  done(hook: string, seq: number): void;
  /** resolves once every add and done so far is on disk */
  flushed(): Promise<void>;
  close(): Promise<void>;
}

interface Stored {
  b: string;
  h: Record<string, string>;
}

export class LmdbWebhookJournal implements WebhookJournal {
  private readonly env: RootDatabase;
  private readonly db: Database<Stored, [string, number]>;
  private readonly next = new Map<string, number>();

  constructor(dir: string) {
    mkdirSync(dir, { recursive: true });
    this.env = open({ path: path.join(dir, 'webhooks.lmdb'), maxDbs: 4 });
    this.db = this.env.openDB<Stored, [string, number]>({ name: 'owed', encoding: 'msgpack' });
  }

  pending(hook: string): JournalEntry[] {
    const out: JournalEntry[] = [];
    for (const { key, value } of this.db.getRange({ start: [hook, 0], end: [hook, Number.MAX_SAFE_INTEGER] }))
      out.push({ seq: key[1], body: value.b, headers: value.h });
    this.next.set(hook, (out[out.length - 1]?.seq ?? 0) + 1);
    return out;
  }

  add(hook: string, body: string, headers: Record<string, string>): number {
    let seq = this.next.get(hook);
    if (seq === undefined) {
      seq = 1;
      for (const k of this.db.getKeys({ start: [hook, Number.MAX_SAFE_INTEGER], end: [hook, 0], reverse: true, limit: 1 })) seq = k[1] + 1;
    }
    this.next.set(hook, seq + 1);
    void this.db.put([hook, seq], { b: body, h: headers });
    return seq;
  }

  done(hook: string, seq: number): void {
    void this.db.remove([hook, seq]);
  }

  async flushed(): Promise<void> {
    await this.env.flushed;
  }

  async close(): Promise<void> {
    await this.env.flushed;
    await this.env.close();
  }
}
