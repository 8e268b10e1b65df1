/**
 * The cluster-wide quarantine: one KV bucket that every node mirrors (key: the twin key in
 * base64url, value: the QuarantineRecord). It is the authority for every partition engine:
 *
 * - a node's watchdog thread puts the record of a hung twin here before it kills the process
 *   (watchdog-worker.mjs), and an engine's own quarantines (an async batch past MODEL_TIMEOUT_MS,
 *   an unencodable state) are put here by the partition's owner;
 * - a partition engine reads the bucket afresh before it replays its log (`refresh`, then
 *   `forPartition`), so the node taking over a partition whose owner died on a hang does not
 *   replay the message that hung it;
 * - each node refuses ingest for a quarantined twin (its compiled models' `quarantined` maps),
 *   reports the records on GraphQL `quarantined` and /metrics, and a release deletes the key
 *   cluster-wide.
 */
import type { KV } from '@nats-io/kv';
import type { Logger } from 'pino';
import { keyString, parseKeyString, partition as partitionOf } from '@hextwin/shared';
import type { QuarantineRecord } from '../engine/types.js';
import { KvMirror } from './kv-mirror.js';

/** The bucket key of a twin (KV keys allow only a few characters; base64url stays within them). */
export function quarantineKey(model: string, id: string): string {
  return Buffer.from(keyString(model, id), 'utf8').toString('base64url');
}

function decodeRecord(b: Uint8Array): QuarantineRecord {
  const r = JSON.parse(new TextDecoder().decode(b)) as QuarantineRecord;
  if (typeof r?.model !== 'string' || typeof r.id !== 'string' || typeof r.code !== 'string') throw new Error('not a quarantine record');
  return { model: r.model, id: r.id, code: r.code, reason: String(r.reason ?? ''), at: Number(r.at) || 0 };
}

export class ClusterQuarantine {
  private readonly mirror: KvMirror<QuarantineRecord>;
  private inflight: Promise<void> | null = null;
  private queued: Promise<void> | null = null;

  constructor(
    private readonly kv: KV,
    /** a record appeared (`rec`) or was released (undefined) */
    onChange: (model: string, id: string, rec: QuarantineRecord | undefined) => void,
    log: Logger,
  ) {
    this.mirror = new KvMirror(
      kv,
      decodeRecord,
      (key) => {
        let twin;
        try {
          twin = parseKeyString(Buffer.from(key, 'base64url').toString('utf8'));
        } catch {
          return; // not one of ours
        }
        onChange(twin.model, twin.id, this.mirror.entries.get(key)?.value);
      },
      log,
    );
  }

  start(): Promise<void> {
    return this.mirror.start();
  }

  /**
   * Read the whole bucket again, so a record put a moment ago (by a node's watchdog just before it
   * died) is seen even if the watch has not delivered it yet. Concurrent calls share a read that
   * began after they were made.
   */
  refresh(): Promise<void> {
    if (this.queued) return this.queued;
    if (!this.inflight) return (this.inflight = this.mirror.reload().finally(() => (this.inflight = null)));
    return (this.queued = this.inflight
      .catch(() => undefined)
      .then(() => {
        this.queued = null;
        return this.refresh();
      }));
  }

  /** Records for the twins of partition p (and model-wide ones). */
  forPartition(p: number): QuarantineRecord[] {
    return this.list().filter((r) => r.id === '*' || partitionOf(r.model, r.id) === p);
  }

  list(): QuarantineRecord[] {
    return [...this.mirror.entries.values()].map((e) => e.value);
  }

  get size(): number {
    return this.mirror.entries.size;
  }

  has(model: string, id: string): boolean {
    return this.mirror.entries.has(quarantineKey(model, id));
  }

  /** Quarantine cluster-wide (resolves once JetStream stored it). */
  async put(rec: QuarantineRecord): Promise<void> {
    await this.kv.put(quarantineKey(rec.model, rec.id), JSON.stringify(rec));
  }

  /** Release cluster-wide; true when the twin was quarantined. */
  async release(model: string, id: string): Promise<boolean> {
    const key = quarantineKey(model, id);
    const e = await this.kv.get(key);
    if (!e || e.operation !== 'PUT') return false;
    await this.kv.delete(key);
    await this.refresh();
    return true;
  }

  stop(): void {
    this.mirror.stop();
  }
}
