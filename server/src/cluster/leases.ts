/**
 * Partition leases in the leases bucket: key `p<partition>`, value {owner}. Taking a lease is a
 * create (no entry yet) or an update that names the revision this node saw, so of two nodes
 * racing for a partition exactly one wins. The winning revision is the owner's epoch: it orders
 * owners over time (events from an older epoch are stale).
 */
import type { KV } from '@nats-io/kv';
import type { Logger } from 'pino';
import { KvMirror } from './kv-mirror.js';

export interface LeaseValue {
  /** node id, or '' once released */
  owner: string;
}

export interface Lease {
  owner: string;
  revision: number;
}

const keyOf = (p: number) => `p${p}`;

export class LeaseTable {
  private readonly mirror: KvMirror<LeaseValue>;

  constructor(
    private readonly kv: KV,
    private readonly self: string,
    onChange: (partition: number) => void,
    private readonly log: Logger,
  ) {
    this.mirror = new KvMirror<LeaseValue>(
      kv,
      (b) => JSON.parse(new TextDecoder().decode(b)) as LeaseValue,
      (key) => onChange(Number(key.slice(1))),
      log,
    );
  }

  start(): Promise<void> {
    return this.mirror.start();
  }

  get(p: number): Lease | undefined {
    const e = this.mirror.entries.get(keyOf(p));
    return e ? { owner: e.value.owner, revision: e.revision } : undefined;
  }

  /** Take partition p; resolves with the new revision (the epoch), or null when another node got there first. */
  async acquire(p: number): Promise<number | null> {
    const cur = this.get(p);
    const data = JSON.stringify({ owner: this.self } satisfies LeaseValue);
    try {
      const revision = cur ? await this.kv.update(keyOf(p), data, cur.revision) : await this.kv.create(keyOf(p), data);
      this.note(p, this.self, revision);
      return revision;
    } catch (err) {
      this.log.debug({ err, partition: p }, 'lease taken by another node');
      // our copy was stale: refresh it so the next attempt names the right revision
      const e = await this.kv.get(keyOf(p)).catch(() => null);
      if (e)
        this.mirror.entries.set(keyOf(p), {
          value: e.operation === 'PUT' ? (JSON.parse(e.string()) as LeaseValue) : { owner: '' },
          revision: e.revision,
          seenAt: Date.now(),
        });
      return null;
    }
  }

  /** Give partition p up (after its final checkpoint); a no-op when someone else already holds it. */
  async release(p: number, revision: number): Promise<void> {
    try {
      this.note(p, '', await this.kv.update(keyOf(p), JSON.stringify({ owner: '' } satisfies LeaseValue), revision));
    } catch (err) {
      this.log.debug({ err, partition: p }, 'lease already moved on');
    }
  }

  /** Record our own write at once, without waiting for the watch to echo it. */
  private note(p: number, owner: string, revision: number): void {
    const cur = this.mirror.entries.get(keyOf(p));
    if (!cur || cur.revision < revision) this.mirror.entries.set(keyOf(p), { value: { owner }, revision, seenAt: Date.now() });
  }

  async resync(): Promise<void> {
    await this.mirror.start();
  }

  stop(): void {
    this.mirror.stop();
  }
}
