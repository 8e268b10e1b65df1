/** Creates the cluster's streams and KV buckets when missing (every node does this at start; it is idempotent). */
import { jetstreamManager, jetstream, type JetStreamClient, type JetStreamManager, RetentionPolicy, StorageType, DiscardPolicy } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { nanos, type NatsConnection } from '@nats-io/transport-node';
import { HextwinError } from '@hextwin/shared';
import type { ClusterNames } from './names.js';

export interface ClusterStreams {
  js: JetStreamClient;
  jsm: JetStreamManager;
  leases: KV;
  nodes: KV;
  shared: KV;
  quarantine: KV;
  /** every stream and bucket (by stream name) with the replicas it has */
  replicas: { stream: string; replicas: number }[];
}

/** How long JetStream remembers message ids to drop a re-sent message (forwarded twin messages, checkpoint retries). */
export const DUPLICATE_WINDOW_MS = 120_000;

async function ensureStream(jsm: JetStreamManager, name: string, subjects: string[], replicas: number): Promise<void> {
  try {
    await jsm.streams.info(name);
    return;
  } catch {
    // missing: create it below
  }
  try {
    await withReplicaHint(replicas, () =>
      jsm.streams.add({
        name,
        subjects,
        storage: StorageType.File,
        retention: RetentionPolicy.Limits,
        discard: DiscardPolicy.Old,
        duplicate_window: nanos(DUPLICATE_WINDOW_MS),
        num_replicas: replicas,
      }),
    );
  } catch (e) {
    if (e instanceof HextwinError) throw e;
    // another node created it at the same moment
    await jsm.streams.info(name).catch(() => {
      throw e;
    });
  }
}

/** A server that cannot hold `replicas` copies (one server, or fewer in the NATS cluster) is a configuration error, not a crash. */
async function withReplicaHint<T>(replicas: number, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    const msg = (e as Error)?.message ?? String(e);
    if (replicas > 1 && /replica|cluster|peers/i.test(msg)) {
      throw new HextwinError('CONFIG_INVALID', `NATS_REPLICAS=${replicas}, but NATS cannot keep that many copies (${msg}): use 1 for a single server`, {
        cause: e,
      });
    }
    throw e;
  }
}

/**
 * Streams and buckets hextwin needs, created with `replicas` copies when missing. Existing ones are
 * left as they are (changing replicas is an operator's decision, `nats stream edit --replicas`);
 * `replicas` in the result says what each has, so the caller can report a difference.
 */
export async function ensureClusterStreams(nc: NatsConnection, names: ClusterNames, replicas = 1): Promise<ClusterStreams> {
  const jsm = await jetstreamManager(nc, { timeout: 5_000 });
  const js = jetstream(nc, { timeout: 5_000 });
  await ensureStream(jsm, names.logStream, [`${names.prefix}.log.*`], replicas);
  await ensureStream(jsm, names.stateStream, [`${names.prefix}.state.*`], replicas);
  const kvm = new Kvm(js);
  const opts = { history: 1, replicas, storage: StorageType.File };
  const buckets = [names.leaseBucket, names.nodeBucket, names.sharedBucket, names.quarantineBucket];
  const [leases, nodes, shared, quarantine] = await withReplicaHint(replicas, () => Promise.all(buckets.map((b) => kvm.create(b, opts))));
  const streams = [names.logStream, names.stateStream, ...buckets.map((b) => `KV_${b}`)];
  const have = await Promise.all(streams.map(async (stream) => ({ stream, replicas: (await jsm.streams.info(stream)).config.num_replicas })));
  return { js, jsm, leases: leases!, nodes: nodes!, shared: shared!, quarantine: quarantine!, replicas: have };
}

/**
 * Every message of one subject from `fromSeq` on, up to the last one present when the read began,
 * in order (an ordered consumer: ephemeral, flow-controlled, recreated by the client on gaps).
 */
export async function* readSubject(js: JetStreamClient, stream: string, subject: string, fromSeq: number): AsyncIterable<{ seq: number; data: Uint8Array }> {
  const c = await js.consumers.get(stream, { filter_subjects: subject, opt_start_seq: Math.max(1, fromSeq) });
  try {
    const info = await c.info(true);
    if (info.num_pending === 0) return;
    const messages = await c.consume({ max_messages: 512 });
    try {
      for await (const m of messages) {
        yield { seq: m.seq, data: m.data };
        if (m.info.pending === 0) break;
      }
    } finally {
      messages.stop();
    }
  } finally {
    await c.delete().catch(() => undefined);
  }
}

/** The sequence of the last message of a subject, or 0 when it has none. */
export async function lastSeqOf(jsm: JetStreamManager, stream: string, subject: string): Promise<number> {
  const m = await jsm.streams.getMessage(stream, { last_by_subj: subject });
  return m?.seq ?? 0;
}
