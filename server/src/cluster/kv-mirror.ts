/**
 * A local copy of a small KV bucket, kept current by a watch and reloaded after reconnects. Each
 * entry remembers when this node last saw its revision change (liveness is judged by local time,
 * so clocks of different machines never need to agree).
 */
import type { KV } from '@nats-io/kv';
import type { Logger } from 'pino';

export interface MirrorEntry<V> {
  value: V;
  revision: number;
  /** local time (ms) when this revision was first seen */
  seenAt: number;
}

export class KvMirror<V> {
  readonly entries = new Map<string, MirrorEntry<V>>();
  private watcher: { stop(): void } | null = null;
  private stopped = false;

  constructor(
    private readonly kv: KV,
    private readonly decode: (b: Uint8Array) => V,
    private readonly onChange: (key: string) => void,
    private readonly log: Logger,
  ) {}

  /** (Re)start the watch, then reload every key so nothing changed while away is missed. */
  async start(): Promise<void> {
    this.watcher?.stop();
    this.watcher = null;
    const w = await this.kv.watch({ key: '>', include: 'updates' as never });
    if (this.stopped) {
      w.stop();
      return;
    }
    this.watcher = w;
    void (async () => {
      try {
        for await (const e of w) {
          if (e.operation === 'PUT') this.set(e.key, e.value, e.revision);
          else this.remove(e.key, e.revision);
        }
      } catch (err) {
        if (!this.stopped) this.log.warn({ err }, 'KV watch ended');
      }
    })();
    await this.reload();
  }

  private set(key: string, raw: Uint8Array, revision: number): void {
    const cur = this.entries.get(key);
    if (cur && cur.revision >= revision) return;
    let value: V;
    try {
      value = this.decode(raw);
    } catch (err) {
      this.log.warn({ err, key }, 'ignoring an unreadable KV entry');
      return;
    }
    this.entries.set(key, { value, revision, seenAt: Date.now() });
    this.onChange(key);
  }

  private remove(key: string, revision: number): void {
    const cur = this.entries.get(key);
    if (!cur || cur.revision > revision) return;
    this.entries.delete(key);
    this.onChange(key);
  }

  async reload(): Promise<void> {
    const present = new Set<string>();
    const keys = await this.kv.keys();
    const list: string[] = [];
    for await (const k of keys) list.push(k);
    await Promise.all(
      list.map(async (k) => {
        const e = await this.kv.get(k);
        if (!e || e.operation !== 'PUT') return;
        present.add(k);
        this.set(k, e.value, e.revision);
      }),
    );
    for (const k of [...this.entries.keys()]) {
      if (!present.has(k)) {
        this.entries.delete(k);
        this.onChange(k);
      }
    }
  }

  /** Treat every entry as just seen (after this node was disconnected and could not watch). */
  touchAll(): void {
    const now = Date.now();
    for (const e of this.entries.values()) e.seenAt = now;
  }

  stop(): void {
    this.stopped = true;
    this.watcher?.stop();
    this.watcher = null;
  }
}
