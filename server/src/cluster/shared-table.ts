/**
 * Per-model shared data (`ctx.shared`) for the whole cluster: a KV bucket, with a local copy kept
 * current by a watch so that reads stay synchronous. Writes go to the bucket in the background;
 * other nodes see them a moment later (last writer wins).
 */
import type { KV } from '@nats-io/kv';
import type { Logger } from 'pino';
import type { DurableTable } from '../store/store.js';
import { pack, unpack } from './codec.js';
import { KvMirror } from './kv-mirror.js';

/** KV keys allow [-/_=.a-zA-Z0-9]: table keys are stored as base64url. */
const encodeKey = (k: string) => 'k' + Buffer.from(k, 'utf8').toString('base64url');
const decodeKey = (k: string) => Buffer.from(k.slice(1), 'base64url').toString('utf8');

export class SharedKvTable<V> implements DurableTable<V> {
  private readonly local = new Map<string, V>();
  private readonly mirror: KvMirror<V>;
  private writes = new Set<Promise<unknown>>();

  constructor(
    private readonly kv: KV,
    private readonly log: Logger,
  ) {
    this.mirror = new KvMirror<V>(
      kv,
      (b) => unpack<V>(b),
      (key) => this.onRemote(key),
      log,
    );
  }

  start(): Promise<void> {
    return this.mirror.start();
  }

  private onRemote(key: string): void {
    const k = decodeKey(key);
    const e = this.mirror.entries.get(key);
    if (e) this.local.set(k, e.value);
    else this.local.delete(k);
  }

  private track(p: Promise<unknown>): void {
    const q = p.catch((err) => this.log.warn({ err }, 'writing shared model data failed'));
    this.writes.add(q);
    void q.finally(() => this.writes.delete(q));
  }

  get(key: string): V | undefined {
    return this.local.get(key);
  }

  put(key: string, value: V): void {
    this.local.set(key, value);
    this.track(this.kv.put(encodeKey(key), pack(value)));
  }

  delete(key: string): void {
    if (!this.local.delete(key)) return;
    this.track(this.kv.delete(encodeKey(key)));
  }

  *entries(prefix = ''): Iterable<[string, V]> {
    const keys = [...this.local.keys()].filter((k) => k.startsWith(prefix)).sort();
    for (const k of keys) yield [k, this.local.get(k)!];
  }

  /** Resolves once every write issued so far reached JetStream. */
  async flushed(): Promise<void> {
    await Promise.all([...this.writes]);
  }

  async resync(): Promise<void> {
    await this.mirror.start();
  }

  stop(): void {
    this.mirror.stop();
  }
}
