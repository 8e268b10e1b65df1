/**
 * A hextwin node in a cluster, seen by the rest of the server as an engine (EngineApi): connectors
 * and GraphQL use it exactly as they use the embedded engine.
 *
 * - Ingest: validated here, then stored in the partitions' JetStream subjects (ingest-batcher.ts);
 *   resolves once JetStream has every envelope. The owner applies them.
 * - Reads: twins of partitions this node owns come from their engines; the others from the view
 *   (cluster-view.ts), kept current by the owners' event fan-out.
 * - Writes aimed at one twin (commands, acknowledgements) go to the partition's owner by request.
 * - Events: this node's listeners hear every twin change, removal and alert of the whole cluster,
 *   and the commands for device connections this node holds.
 */
import { EventHub } from '../engine/event-hub.js';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import { HextwinError, partition as partitionOf, PARTITIONS, type AlertInput, type JsonValue, type ModelDefinition, type Severity } from '@hextwin/shared';
import { CompiledModel } from '../engine/compiled-model.js';
import { EngineMetrics } from '../engine/metrics.js';
import { RealClock, type Clock } from '../engine/clock.js';
import type { AggregateSource } from '../engine/context.js';
import { validateEnvelopes } from '../engine/validate.js';
import type { ForwardItem } from '../engine/engine.js';
import type {
  AlertRecord,
  CommandRecord,
  EngineApi,
  EngineEventName,
  EngineEvents,
  Envelope,
  IngestOptions,
  IngestRole,
  IngestRoles,
  IngestTap,
  ModelInfo,
  QuarantineRecord,
  SourceRef,
  TwinView,
} from '../engine/types.js';
import { nuid } from '@nats-io/transport-node';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { ModelWatchdog } from '../engine/watchdog.js';
import { ClusterQuarantine } from './cluster-quarantine.js';
import { connectCluster, type ClusterConnection } from './connection.js';
import { OwnerFence } from './fence.js';
import type { NatsSettings } from './nats-settings.js';
import { ensureClusterStreams, type ClusterStreams } from './jetstream.js';
import { clusterNames, safeToken, type ClusterNames } from './names.js';
import { NatsTransport } from './nats-transport.js';
import { JsPublisher } from './js-publisher.js';
import type { Transport } from './transport.js';
import { IngestBatcher } from './ingest-batcher.js';
import { EventFanout, type TwinSnap } from './events.js';
import { ClusterView, RemoteTwin, type Snapshot } from './cluster-view.js';
import { AlertIndex, alertPartition } from './alert-index.js';
import { Membership } from './membership.js';
import { LeaseTable } from './leases.js';
import { Ownership } from './ownership.js';
import { PartitionRunner, type PartitionRequest } from './partition-runner.js';
import { SharedKvTable } from './shared-table.js';
import { SharedReference } from './reference-source.js';
import { encodeRecord, pack, unpack } from './codec.js';
import {
  gatherHandler,
  mergePartials,
  type FilterCompiler,
  type GatherRequest,
  type GatherResult,
  type Group,
  type MetricSpec,
  type NodeStatus,
  type PartialAnswer,
  type TwinFilter,
} from './gather.js';

/** The partition whose owner also holds the cluster's ingest roles (MQTT). */
const ROLE_PARTITION = 0;

export interface ClusterNodeOptions {
  natsUrl: string;
  nodeId: string;
  /** the node's HTTP address, shown in cluster status */
  url?: string;
  models: ModelDefinition[];
  logger: Logger;
  registry: Registry;
  clock?: Clock;
  /** subject, stream and bucket prefix (several clusters can share one NATS) */
  prefix?: string;
  checkpointMs?: number;
  /** bound on accepted-but-unstored envelopes and on each partition engine's mailboxes */
  maxQueued?: number;
  baseDir?: string;
  heartbeatMs?: number;
  /** a node unseen this long is dead and its partitions are taken over */
  nodeTtlMs?: number;
  /** JetStream replicas of the cluster's streams and buckets (1 for a single NATS server); `nats.replicas` wins */
  replicas?: number;
  /** credentials, TLS and replicas from the environment (nats-settings.ts) */
  nats?: Partial<NatsSettings>;
  /** ms an async model batch may take before it fails with MODEL_TIMEOUT and the twin is quarantined (0: no limit) */
  modelTimeoutMs?: number;
  /**
   * ms a synchronous model call may block before the watchdog quarantines the twin cluster-wide and
   * ends the process (0: off). At most half of `nodeTtlMs`: the record must be in the bucket before
   * the other nodes declare this (frozen) one dead and replay its partitions.
   */
  modelWatchdogMs?: number;
  /** where the watchdog notes a hung twin when NATS cannot take the record (published at the next start) */
  dataDir?: string;
}

/** One partition's owner and whether this node holds it. */
export interface PartitionStatus {
  partition: number;
  owner: string;
  local: boolean;
}

export class ClusterNode implements EngineApi {
  readonly metrics: EngineMetrics;
  readonly names: ClusterNames;
  readonly self: string;
  private readonly o: Required<Omit<ClusterNodeOptions, 'url' | 'clock' | 'prefix' | 'nats' | 'dataDir'>> & ClusterNodeOptions;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly compiled = new Map<string, CompiledModel>();
  private readonly runners = new Map<number, PartitionRunner>();
  private readonly events = new EventHub<EngineEvents>((err, event) => this.log.error({ err, event }, 'event listener threw'));
  private readonly alertsIndex = new AlertIndex();
  private readonly cm: ClusterMetrics;

  private conn!: ClusterConnection;
  private streams!: ClusterStreams;
  private transport!: Transport;
  private publisher!: JsPublisher;
  private batcher!: IngestBatcher;
  private fanout!: EventFanout;
  private view!: ClusterView;
  private membership!: Membership;
  private leases!: LeaseTable;
  private ownership!: Ownership;
  private shared!: SharedKvTable<unknown>;
  private reference!: SharedReference;
  private fence!: OwnerFence;
  private quarantine!: ClusterQuarantine;
  private watchdog: ModelWatchdog | null = null;
  /** this process, among processes that may (wrongly) share its node id */
  private readonly instance = nuid.next();
  private idConflict: string | null = null;
  /** replicas asked for, and what each stream and bucket has */
  durability: { wanted: number; streams: { stream: string; replicas: number }[] } = { wanted: 1, streams: [] };
  private subs: { unsubscribe(): void }[] = [];
  private started = false;
  /** leaving: refuse ingest, hand partitions over */
  private draining = false;
  private leaving: Promise<void> | null = null;
  /** partitions handed over (or given up): shutting the node down */
  private stopping = false;
  private maxBytes = 512 * 1024;
  private filterCompiler: FilterCompiler | null = null;
  private readonly acceptedByModel = new Map<string, number>();
  private readonly roleListeners = new Set<(held: boolean) => void>();
  private mqttRole = false;
  /** applied and failed counts of partitions this node no longer runs */
  private readonly retired = new Map<string, { applied: number; failed: number }>();

  constructor(opts: ClusterNodeOptions) {
    this.o = {
      prefix: 'hextwin',
      checkpointMs: 2_000,
      maxQueued: 500_000,
      baseDir: process.cwd(),
      nodeTtlMs: 3_000,
      replicas: 1,
      modelTimeoutMs: 0,
      modelWatchdogMs: 0,
      ...opts,
      // five heartbeats per TTL: a node is declared dead after missing about four
      heartbeatMs: opts.heartbeatMs ?? Math.max(100, Math.min(1_000, Math.round((opts.nodeTtlMs ?? 3_000) / 5))),
    };
    this.self = opts.nodeId;
    this.names = clusterNames(this.o.prefix);
    this.log = opts.logger.child({ part: 'cluster' });
    this.clock = opts.clock ?? new RealClock();
    this.metrics = new EngineMetrics(opts.registry, {
      twins: () => {
        const m = new Map<string, number>();
        for (const r of this.runners.values()) for (const mi of r.engine.models()) m.set(mi.name, (m.get(mi.name) ?? 0) + mi.twinCount);
        return m;
      },
      queued: () => this.mailboxDepth,
      counts: () => this.counts(),
      quarantined: () => this.quarantine?.size ?? 0,
    });
    this.cm = new ClusterMetrics(opts.registry, this);
  }

  /** Per-model message counts: accepted by this node, applied and failed by its partitions (past and present). */
  private counts(): { model: string; accepted: number; applied: number; failed: number }[] {
    const out = new Map<string, { model: string; accepted: number; applied: number; failed: number }>();
    const row = (m: string) => {
      let r = out.get(m);
      if (!r) out.set(m, (r = { model: m, accepted: this.acceptedByModel.get(m) ?? 0, applied: 0, failed: 0 }));
      return r;
    };
    for (const [m, c] of this.retired) {
      const r = row(m);
      r.applied += c.applied;
      r.failed += c.failed;
    }
    for (const runner of this.runners.values()) {
      for (const cm of runner.engine.compiledModels()) {
        const r = row(cm.name);
        r.applied += cm.applied;
        r.failed += cm.failed;
      }
    }
    for (const m of this.acceptedByModel.keys()) row(m);
    return [...out.values()];
  }

  // ---------------------------------------------------------------- lifecycle

  /** The node's HTTP address, shown to the other nodes (set once the server listens). */
  advertise(url: string): void {
    this.o.url = url;
  }

  async start(): Promise<void> {
    this.conn = await connectCluster(this.o.natsUrl, `hextwin ${this.self}`, this.log, this.o.nats);
    try {
      await this.join();
    } catch (e) {
      await this.conn.close().catch(() => undefined);
      throw e;
    }
  }

  private async join(): Promise<void> {
    const t0 = performance.now();
    this.maxBytes = Math.max(64 * 1024, Math.min(this.conn.nc.info?.max_payload ?? 1024 * 1024, 8 * 1024 * 1024) - 16 * 1024);
    const replicas = this.o.nats?.replicas ?? this.o.replicas;
    this.streams = await ensureClusterStreams(this.conn.nc, this.names, replicas);
    this.reportReplicas(replicas);
    this.transport = new NatsTransport(this.conn.nc);
    await this.refuseDuplicateId();
    this.publisher = new JsPublisher(this.conn.nc);
    this.shared = new SharedKvTable(this.streams.shared, this.log);
    await this.shared.start();
    this.reference = new SharedReference(this.o.models, this.o.baseDir, this.log);
    for (const def of this.o.models) {
      if (this.compiled.has(def.name)) throw new Error(`two models are named "${def.name}"`);
      this.compiled.set(def.name, new CompiledModel(def, this.shared as never));
    }
    await this.startQuarantine();
    this.batcher = new IngestBatcher(this.publisher, this.names, {
      maxPending: this.o.maxQueued,
      maxBatch: 4_096,
      maxBytes: this.maxBytes,
      maxInFlight: 128,
      timeoutMs: 5_000,
      connected: () => this.conn.connected,
      onStored: (n) => {
        this.cm.logMessages.inc();
        this.cm.logEnvelopes.inc(n);
      },
    });
    this.fanout = new EventFanout(this.transport, this.names.eventSubject(this.self), this.self, this.maxBytes, (err) =>
      this.log.warn({ err }, 'event fan-out failed'),
    );
    this.view = new ClusterView(
      this.self,
      {
        twinChanged: (twin, created) => this.emit('twinChanged', { twin, created }),
        twinRemoved: (model, id, last) => this.emit('twinRemoved', { model, id, last }),
        alert: (a, live) => {
          if (this.alertsIndex.add(a) && live) this.emit('alert', a);
        },
        alertAcknowledged: (id) => {
          const a = this.alertsIndex.acknowledge(id);
          if (a) this.emit('alertAcknowledged', a);
        },
        command: (record, source) => {
          if (this.delivers(source, false)) this.emit('command', { record, source });
        },
      },
      (p) => this.fetchSnapshot(p),
      this.log,
    );
    this.subs.push(this.transport.subscribe(this.names.eventWildcard, (data) => this.view.onBatch(data)));
    this.subs.push(this.transport.serve(this.names.gatherSubject, gatherHandler(this)));
    const startedAt = Date.now();
    this.subs.push(this.transport.serve(this.names.aliveSubject(this.self), () => [pack({ instance: this.instance, url: this.o.url ?? '', startedAt })]));
    this.membership = new Membership(
      this.streams.nodes,
      { id: this.self, url: this.o.url ?? '', draining: false, startedAt, instance: this.instance },
      {
        heartbeatMs: this.o.heartbeatMs,
        ttlMs: this.o.nodeTtlMs,
        probe: (id) => this.probe(id),
        onConflict: (other) => {
          this.idConflict ??= `another process (started ${new Date(other.startedAt).toISOString()}, ${other.url || 'no url'}) heartbeats as NODE_ID ${this.self}`;
          this.log.error({ other }, 'another process uses this NODE_ID: every node needs its own');
        },
      },
      () => this.ownership?.kick(),
      this.log,
    );
    this.leases = new LeaseTable(this.streams.leases, this.self, () => this.ownership?.kick(), this.log);
    await this.membership.start();
    // two processes started with one id at the same moment: both saw the other's heartbeat
    if (this.idConflict) {
      this.membership.stop();
      throw new HextwinError('NODE_ID_IN_USE', this.idConflict);
    }
    await this.leases.start();
    this.fence = new OwnerFence(
      {
        sinceHeartbeat: () => this.membership.sinceHeartbeat,
        connected: () => this.conn.connected,
        runners: () => this.runners.values(),
        readLease: async (p) => {
          const e = await this.streams.leases.get(`p${p}`);
          if (!e || e.operation !== 'PUT') return undefined;
          return { owner: (JSON.parse(e.string()) as { owner: string }).owner, revision: e.revision };
        },
        onChange: (fenced) => {
          if (fenced) this.setRole(false);
          else if (this.runners.get(ROLE_PARTITION)?.state === 'running' && !this.runners.get(ROLE_PARTITION)!.held) this.setRole(true);
          this.ownership?.kick();
        },
        onLost: (p) => this.log.warn({ partition: p }, 'the partition moved while this node was cut off: stopping it without a checkpoint'),
      },
      // the earliest another node can declare this one dead is ~3 heartbeats after its last one
      { self: this.self, limitMs: 2 * this.o.heartbeatMs, freshMs: this.o.heartbeatMs + 100, checkMs: Math.max(25, Math.round(this.o.heartbeatMs / 4)) },
      this.log,
    );
    this.fence.start();
    this.ownership = new Ownership(
      this.self,
      this.membership,
      this.leases,
      this.ownershipHost(),
      { maxStarts: 64, maxHandovers: 32, intervalMs: 200 },
      this.log,
    );
    this.conn.onReconnect(() => this.afterReconnect());
    this.conn.onDisconnect(() => this.membership.suspendJudgement());
    this.ownership.start();
    await this.ownership.settled();
    this.bootstrapView();
    await this.viewSettled(5_000);
    this.started = true;
    this.log.info({ node: this.self, partitions: this.runners.size, ms: Math.round(performance.now() - t0) }, 'cluster node ready');
    this.emit('ready', {});
  }

  private ownershipHost() {
    return {
      connected: () => this.conn.connected && !this.stopping && !this.fence.fenced,
      runnerState: (p: number) => this.runners.get(p)?.state,
      runnerEpoch: (p: number) => this.runners.get(p)?.epoch,
      runnerFailed: (p: number) => !!this.runners.get(p)?.failure || !!this.runners.get(p)?.leaseLost,
      startRunner: (p: number, epoch: number) => this.startRunner(p, epoch),
      stopRunner: (p: number, graceful: boolean) => this.stopRunner(p, graceful),
      onMoved: (kind: 'acquired' | 'handedOver' | 'lost', p: number) => {
        this.cm.moves.labels(kind).inc();
        this.log.info({ partition: p, kind }, 'partition moved');
      },
    };
  }

  private async startRunner(p: number, epoch: number): Promise<void> {
    const perEngine = Math.max(10_000, Math.ceil(this.o.maxQueued / 16));
    const r = new PartitionRunner(
      {
        streams: this.streams,
        names: this.names,
        transport: this.transport,
        fanout: this.fanout,
        models: this.o.models,
        metrics: this.metrics,
        reference: this.reference,
        shared: this.shared,
        clock: this.clock,
        logger: this.log,
        checkpointMs: this.o.checkpointMs,
        maxQueued: perEngine,
        baseDir: this.o.baseDir,
        maxBytes: this.maxBytes,
        forward: (from, items) => this.forward(from, items),
        publisher: this.publisher,
        validate: (envelopes) => this.validate(envelopes),
        onRejected: (reason, n) => {
          this.cm.rejected.labels(reason).inc(n);
          this.metrics.errors.labels(reason).inc(n);
        },
        emit: (event, payload) => this.emitLocal(event, payload),
        modelTimeoutMs: this.o.modelTimeoutMs,
        watchdog: this.watchdog,
        quarantined: async (part) => {
          await this.quarantine.refresh();
          return this.quarantine.forPartition(part);
        },
        onQuarantined: (rec) =>
          void this.quarantine.put(rec).catch((err) => this.log.error({ err, model: rec.model, id: rec.id }, 'could not quarantine the twin cluster-wide')),
      },
      p,
      epoch,
    );
    r.engine.setAggregateSource(this.aggregateSource);
    r.engine.beforeCheckpointCommit(async () => void (await Promise.all([...this.barriers].map((b) => b()))));
    this.fence.adopt(r);
    this.runners.set(p, r);
    await r.start();
    if (r.state !== 'running') return;
    this.cm.startSeconds.set(r.startMs / 1000);
    // the view served p until now: tell listeners what differs from the engine's restored twins
    const before = this.view.takeLocal(p);
    for (const cm of r.engine.compiledModels()) {
      for (const t of cm.twins.values()) {
        const prev = before.get(cm.name)?.get(t.id);
        if (prev) before.get(cm.name)!.delete(t.id);
        if (!prev || prev.version !== t.version || prev.updatedAt !== t.updatedAt) this.emit('twinChanged', { twin: t, created: !prev });
      }
    }
    for (const [model, byId] of before) for (const [id, last] of byId) this.emit('twinRemoved', { model, id, last });
    if (p === ROLE_PARTITION && !r.held) this.setRole(true);
  }

  private async stopRunner(p: number, graceful: boolean): Promise<void> {
    const r = this.runners.get(p);
    if (!r) return;
    if (p === ROLE_PARTITION) this.setRole(false);
    await r.stop(graceful);
    this.view.releaseLocal(p, r.epoch, r.twins(), graceful ? r.commands() : []);
    for (const cm of r.engine.compiledModels()) {
      const c = this.retired.get(cm.name) ?? { applied: 0, failed: 0 };
      c.applied += cm.applied;
      c.failed += cm.failed;
      this.retired.set(cm.name, c);
    }
    this.runners.delete(p);
    if (!this.stopping) this.view.sync(p);
  }

  /** Ask every other partition's owner for a snapshot. */
  private bootstrapView(): void {
    for (let p = 0; p < PARTITIONS; p++) if (!this.runners.has(p)) this.view.sync(p);
  }

  private async viewSettled(ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (this.view.syncedCount < PARTITIONS && Date.now() < deadline) {
      // partitions nobody owns yet have nothing to copy
      let waiting = 0;
      for (let p = 0; p < PARTITIONS; p++) {
        const l = this.leases.get(p);
        if (!this.view.isSynced(p) && l && l.owner && l.owner !== this.self && this.membership.isAlive(l.owner)) waiting++;
      }
      if (!waiting) return;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Log (and keep for status) streams and buckets whose replicas differ from what this node asks for. */
  private reportReplicas(wanted: number): void {
    this.durability = { wanted, streams: this.streams.replicas };
    const differ = this.streams.replicas.filter((s) => s.replicas !== wanted);
    for (const s of differ)
      this.log.warn(
        { stream: s.stream, replicas: s.replicas, wanted },
        `${s.stream} has ${s.replicas} replica(s), NATS_REPLICAS asks for ${wanted}: change it with \`nats stream edit ${s.stream} --replicas ${wanted}\` (hextwin does not change existing streams)`,
      );
    this.log.info({ replicas: wanted, differ: differ.length }, 'cluster streams ready');
  }

  /**
   * Refuse to start under a node id a live process already uses: both would take the same
   * partitions. A process that died has no responder on its alive subject (a restart after a crash
   * is fine); one that hangs is judged by whether its heartbeat entry still changes.
   */
  private async refuseDuplicateId(): Promise<void> {
    const inUse = (detail: string) => new HextwinError('NODE_ID_IN_USE', `NODE_ID ${this.self} is in use by ${detail}: give every node its own NODE_ID`);
    try {
      const [reply] = await this.transport.request(this.names.aliveSubject(this.self), new Uint8Array(0), { timeoutMs: 1_000 });
      const other = reply?.length ? unpack<{ url?: string; startedAt?: number }>(reply) : {};
      throw inUse(`a live node${other.url ? ` at ${other.url}` : ''}${other.startedAt ? ` started ${new Date(other.startedAt).toISOString()}` : ''}`);
    } catch (e) {
      if (e instanceof HextwinError && e.code === 'NODE_ID_IN_USE') throw e;
      if ((e as HextwinError).details?.reason === 'no-responders') return;
    }
    // no answer in time: alive if its heartbeat entry still changes
    const key = safeToken(this.self);
    const before = await this.streams.nodes.get(key).catch(() => null);
    if (!before || before.operation !== 'PUT') return;
    await new Promise((r) => setTimeout(r, 2 * this.o.heartbeatMs + 100));
    const after = await this.streams.nodes.get(key).catch(() => null);
    if (after && after.operation === 'PUT' && after.revision !== before.revision) throw inUse('a node that does not answer but still heartbeats');
  }

  /** Is node `id` there? Its alive subject has no responder once its NATS connection is gone. */
  private async probe(id: string): Promise<'alive' | 'gone' | 'unknown'> {
    if (!this.conn.connected) return 'unknown';
    try {
      await this.transport.request(this.names.aliveSubject(id), new Uint8Array(0), { timeoutMs: 500 });
      return 'alive';
    } catch (e) {
      return e instanceof HextwinError && (e.details as { reason?: string } | undefined)?.reason === 'no-responders' ? 'gone' : 'unknown';
    }
  }

  /** Resolves once the (possibly restarted) server's JetStream answers API requests again. */
  private async jetStreamReady(): Promise<void> {
    for (let attempt = 0; !this.stopping; attempt++) {
      try {
        const r = await this.conn.nc.request('$JS.API.INFO', undefined, { timeout: 1_000 });
        if (!r.headers?.hasError && r.data.length) return;
      } catch {
        // not yet: no responders or no answer
      }
      await new Promise((r) => setTimeout(r, Math.min(1_000, 100 * 2 ** attempt)));
    }
  }

  private afterReconnect(): void {
    this.membership.suspendJudgement();
    void this.jetStreamReady().then(() => this.resyncAll());
  }

  private resyncAll(): void {
    this.membership.suspendJudgement();
    // the server may have lost the ephemeral consumers: start each partition's again where it was
    for (const r of this.runners.values()) r.restartConsumer();
    // watches may have died with the server: restart them (retrying while JetStream recovers)
    const retry = (what: string, fn: () => Promise<void>) =>
      void (async () => {
        for (let attempt = 0; !this.stopping; attempt++) {
          try {
            await fn();
            return;
          } catch (err) {
            if (attempt === 0) this.log.warn({ err, what }, 'resync after reconnect failed; retrying');
            await new Promise((r) => setTimeout(r, Math.min(2_000, 100 * 2 ** attempt)));
          }
        }
      })();
    retry('nodes', () => this.membership.resync());
    retry('leases', () => this.leases.resync());
    retry('shared data', () => this.shared.resync());
    // events published while we were away are lost: copy every other partition again
    this.bootstrapView();
    this.ownership.kick();
  }

  /** Leave gracefully: stop accepting, hand every partition over after a final checkpoint, leave. */
  stop(): Promise<void> {
    return (this.leaving ??= this.leave());
  }

  private async leave(): Promise<void> {
    this.draining = true;
    if (!this.started) {
      this.stopping = true;
      await this.conn?.close();
      return;
    }
    await this.batcher.close();
    await this.membership.setDraining().catch(() => undefined);
    this.ownership.drain();
    const deadline = Date.now() + 12_000;
    while ([...this.runners.values()].some((r) => r.state !== 'stopped') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    this.stopping = true;
    this.ownership.stop();
    this.fence.stop();
    for (const r of [...this.runners.values()]) await r.stop(false).catch(() => undefined);
    // the partitions are handed over; what is left is courtesy, bounded so a sick NATS cannot hold the exit
    const within = (ms: number, p: Promise<unknown>) => Promise.race([p.catch(() => undefined), new Promise((r) => setTimeout(r, ms).unref())]);
    await within(2_000, this.ownership.settled());
    this.fanout.flush();
    await within(2_000, this.membership.leave());
    this.leases.stop();
    this.quarantine.stop();
    this.shared.stop();
    await within(1_000, this.shared.flushed());
    this.reference.close();
    this.view.close();
    for (const s of this.subs) s.unsubscribe();
    await this.transport.close();
    this.publisher.close();
    await within(1_000, this.conn.close());
    if (!this.conn.nc.isClosed()) await this.conn.nc.close();
    this.started = false;
  }

  // ---------------------------------------------------------------- quarantine

  /**
   * Mirror the cluster's quarantine bucket (after publishing a record this node's watchdog could
   * only note on disk), and start the watchdog, whose thread puts a hung twin's record there.
   */
  private async startQuarantine(): Promise<void> {
    this.quarantine = new ClusterQuarantine(this.streams.quarantine, (model, id, rec) => this.quarantineChanged(model, id, rec), this.log);
    const note = this.o.dataDir ? path.join(this.o.dataDir, 'watchdog-quarantine.json') : undefined;
    if (note && existsSync(note)) {
      try {
        const rec = JSON.parse(readFileSync(note, 'utf8')) as QuarantineRecord;
        if (typeof rec.model === 'string' && typeof rec.id === 'string') {
          await this.quarantine.put(rec);
          this.metrics.errors.labels(rec.code).inc();
          this.log.error({ model: rec.model, id: rec.id, code: rec.code }, 'the watchdog ended the last run on this twin; it is quarantined cluster-wide');
        }
      } catch (err) {
        if (err instanceof SyntaxError) this.log.warn({ err }, 'ignoring a torn watchdog note');
        else throw err;
      }
      rmSync(note, { force: true });
    }
    await this.quarantine.start();
    const budget = Math.min(this.o.modelWatchdogMs, Math.floor(this.o.nodeTtlMs / 2));
    if (budget > 0 && note) {
      if (budget < this.o.modelWatchdogMs)
        this.log.info(
          { modelWatchdogMs: this.o.modelWatchdogMs, clusterNodeTtlMs: this.o.nodeTtlMs, budget },
          'MODEL_WATCHDOG_MS is lowered to half of CLUSTER_NODE_TTL_MS: a hung twin must be quarantined before the other nodes take its partition over',
        );
      const n = this.o.nats ?? {};
      this.watchdog = ModelWatchdog.start(budget, note, {
        servers: this.o.natsUrl.split(',').map((u) => u.trim()),
        name: `hextwin ${this.self} watchdog`,
        bucket: this.names.quarantineBucket,
        putTimeoutMs: Math.max(200, Math.floor(this.o.nodeTtlMs / 4)),
        ...(n.user ? { user: n.user, password: n.password ?? '' } : {}),
        ...(n.token ? { token: n.token } : {}),
        ...(n.credsFile ? { credsFile: n.credsFile } : {}),
        ...(n.nkeySeedFile ? { nkeySeedFile: n.nkeySeedFile } : {}),
        ...(n.nkeySeed ? { nkeySeed: n.nkeySeed } : {}),
        ...(n.tls ? { tls: n.tls } : {}),
      });
    }
  }

  /** A record appeared in or left the bucket: refuse (or accept) the twin's ingest here, and tell its engine if this node owns it. */
  private quarantineChanged(model: string, id: string, rec: QuarantineRecord | undefined): void {
    const cm = this.compiled.get(model);
    if (!cm) return;
    if (rec) cm.quarantined.set(id, rec);
    else cm.quarantined.delete(id);
    const engines = id === '*' ? [...this.runners.keys()].map((p) => this.localEngine(p)) : [this.localEngine(partitionOf(model, id))];
    for (const e of engines) {
      if (!e) continue;
      if (rec) e.applyQuarantine(rec);
      else void e.releaseQuarantine(model, id).catch((err) => this.log.warn({ err, model, id }, 'releasing the quarantine in the partition failed'));
    }
  }

  quarantined(): QuarantineRecord[] {
    return this.quarantine?.list() ?? [];
  }

  /** Release cluster-wide: every node accepts the twin again, and its owner runs its code again. */
  async releaseQuarantine(model: string, id: string): Promise<boolean> {
    if (!this.started) throw new HextwinError('NOT_READY');
    return this.quarantine.release(model, id);
  }

  // ---------------------------------------------------------------- twin-to-twin forwarding

  /** Publish checkpointed twin-to-twin items to their partitions; each message id is unique forever, so a re-send is dropped. */
  private async forward(from: number, items: ForwardItem[]): Promise<void> {
    await Promise.all(
      items.map(async (it) => {
        const to = partitionOf(it.envelope.model, it.envelope.id);
        const bytes = encodeRecord({
          groups: [{ source: it.source, envelopes: [it.envelope] }],
          hops: it.hops,
          ...(it.control ? { control: it.control } : {}),
        });
        await this.publisher.publish(this.names.logSubject(to), bytes, { msgID: `f${from}.${it.pos}`, timeoutMs: 5_000 });
        this.cm.forwarded.inc();
      }),
    );
  }

  // ---------------------------------------------------------------- requests to owners

  private async ask<T>(p: number, req: PartitionRequest, timeoutMs = 5_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (let attempt = 0; ; attempt++) {
      try {
        const [reply] = await this.transport.request(this.names.partitionRpc(p), pack(req), { timeoutMs: Math.max(100, deadline - Date.now()) });
        return unpack<T>(reply!);
      } catch (e) {
        // the partition is moving: its next owner answers in a moment
        if (!(e instanceof HextwinError) || e.code !== 'CLUSTER_UNAVAILABLE' || Date.now() + 50 > deadline) throw e;
        await new Promise((r) => setTimeout(r, Math.min(250, 20 * 2 ** attempt)));
      }
    }
  }

  private async fetchSnapshot(p: number): Promise<Snapshot> {
    const chunks = await this.transport.request(this.names.partitionRpc(p), pack({ op: 'snapshot' } satisfies PartitionRequest), { timeoutMs: 10_000 });
    const first = unpack<Snapshot>(chunks[0]!);
    for (let i = 1; i < chunks.length; i++) first.twins.push(...unpack<Snapshot>(chunks[i]!).twins);
    return first;
  }

  /** The owner's own current view of a twin (authoritative), or undefined. */
  async fetchTwin(model: string, id: string): Promise<TwinView | undefined> {
    const p = partitionOf(model, id);
    const local = this.localEngine(p);
    if (local) return local.twin(model, id);
    const s = await this.ask<TwinSnap | null>(p, { op: 'twin', model, id });
    return s ? new RemoteTwin(s.m, s.i, s) : undefined;
  }

  // ---------------------------------------------------------------- events

  on<K extends EngineEventName>(event: K, listener: (payload: EngineEvents[K]) => void): () => void {
    return this.events.on(event, listener);
  }

  private emit<K extends EngineEventName>(event: K, payload: EngineEvents[K]): void {
    this.events.emit(event, payload);
  }

  /**
   * Whether this node's connectors deliver a command for a device behind `source`: the node that
   * holds the device's connection does (it hears other nodes' commands through the fan-out); for
   * MQTT, the node holding the MQTT role, which holds the cluster's broker session. A command whose
   * source names no node is delivered by the twin's owner (`ownPartition`).
   */
  private delivers(source: SourceRef | null, ownPartition: boolean): boolean {
    if (source?.connector === 'mqtt') return this.mqttRole;
    return source?.node ? source.node === this.self : ownPartition;
  }

  /** Events of this node's own partitions. */
  private emitLocal<K extends EngineEventName>(event: K, payload: EngineEvents[K]): void {
    if (event === 'alert') this.alertsIndex.add(payload as AlertRecord);
    else if (event === 'alertAcknowledged') this.alertsIndex.acknowledge((payload as AlertRecord).id);
    else if (event === 'command' && !this.delivers((payload as EngineEvents['command']).source, true)) return;
    this.emit(event, payload);
  }

  // ---------------------------------------------------------------- roles

  /**
   * Input one node at a time takes in: the owner of partition 0 holds the `mqtt` role (a lease the
   * cluster already keeps, with the same takeover when its node dies).
   */
  readonly roles: IngestRoles = {
    holds: (_role: IngestRole) => this.mqttRole,
    on: (_role: IngestRole, listener: (held: boolean) => void) => {
      this.roleListeners.add(listener);
      return () => this.roleListeners.delete(listener);
    },
  };

  private setRole(held: boolean): void {
    if (this.mqttRole === held) return;
    this.mqttRole = held;
    this.log.info({ role: 'mqtt', held }, held ? 'this node takes MQTT telemetry in' : 'this node hands MQTT telemetry over');
    for (const l of this.roleListeners) {
      try {
        l(held);
      } catch (err) {
        this.log.error({ err }, 'role listener threw');
      }
    }
  }

  // ---------------------------------------------------------------- EngineApi

  get ready(): boolean {
    return this.started && !this.draining && this.conn.connected;
  }

  /** A partition whose store failed (its engine stopped applying): /readyz names it until it is restored. */
  get failure(): Error | null {
    for (const [p, r] of this.runners) {
      const f = r.failure;
      if (f) return new Error(`partition ${p}: ${f.message}`, { cause: f });
    }
    return null;
  }

  /** Why the node is not ready, when it is not (for /readyz). */
  notReadyReason(): string | null {
    if (this.ready) return null;
    if (!this.started) return 'joining the cluster';
    if (this.draining) return 'leaving the cluster';
    return 'NATS unreachable: reconnecting';
  }

  private aggregateSource: AggregateSource | null = null;
  private tap: IngestTap | null = null;
  private readonly barriers = new Set<() => Promise<void>>();

  hosts(model: string, id: string): boolean {
    return this.localEngine(partitionOf(model, id)) !== undefined;
  }

  /** Every partition engine's checkpoint waits for `fn` (see EngineApi). */
  beforeCheckpointCommit(fn: () => Promise<void>): () => void {
    this.barriers.add(fn);
    return () => void this.barriers.delete(fn);
  }

  /** Batches this node accepts are recorded here (each node records what it accepted). */
  setIngestTap(tap: IngestTap | null): void {
    this.tap = tap;
  }

  /** Every partition's engine reads `ctx.aggregate` from here (this node's index covers the cluster through its view). */
  setAggregateSource(source: AggregateSource | null): void {
    this.aggregateSource = source;
    for (const r of this.runners.values()) r.engine.setAggregateSource(source);
  }

  wakeAt(at: number, fn: () => void): () => void {
    return this.clock.wakeAt(at, fn);
  }

  now(): number {
    return this.clock.now();
  }

  get overloaded(): boolean {
    return this.batcher?.overloaded ?? false;
  }

  whenAccepting(): Promise<void> {
    return this.batcher?.whenAccepting() ?? Promise.resolve();
  }

  hasModel(model: string): boolean {
    return this.compiled.has(model);
  }

  validate(envelopes: Envelope[]): void {
    validateEnvelopes(this.compiled, envelopes);
  }

  async ingest(envelopes: Envelope[], options?: IngestOptions): Promise<void> {
    if (this.draining) throw new HextwinError('SHUTTING_DOWN');
    if (!this.started) throw new HextwinError('NOT_READY');
    if (!envelopes.length) return;
    validateEnvelopes(this.compiled, envelopes);
    const source: SourceRef = { ...(options?.source ?? { connector: 'unknown' }), node: this.self };
    await this.batcher.submit(envelopes, source);
    this.tap?.(envelopes, source);
    for (const e of envelopes) this.acceptedByModel.set(e.model, (this.acceptedByModel.get(e.model) ?? 0) + 1);
  }

  /** The engine of partition p when this node serves it. */
  private localEngine(p: number) {
    const r = this.runners.get(p);
    return r && (r.state === 'running' || r.state === 'stopping') ? r.engine : undefined;
  }

  /** The engine of partition p for a write (command, acknowledgement); refused while this node is cut off. */
  private writableEngine(p: number) {
    const local = this.localEngine(p);
    if (local && this.runners.get(p)!.held)
      throw new HextwinError('CLUSTER_UNAVAILABLE', `partition ${p}: this node is cut off from NATS and confirming its lease`);
    return local;
  }

  models(): ModelInfo[] {
    const counts = new Map<string, number>();
    this.view.countsByModel(counts);
    for (const r of this.runners.values())
      if (this.view.isLocal(r.partition)) for (const mi of r.engine.models()) counts.set(mi.name, (counts.get(mi.name) ?? 0) + mi.twinCount);
    return [...this.compiled.values()].map((cm) => ({
      name: cm.name,
      description: cm.def.description,
      twinCount: counts.get(cm.name) ?? 0,
      hasLocation: typeof cm.def.location === 'function',
      stateSchema: cm.def.stateSchema,
      messageSchema: cm.def.messageSchema,
      level: cm.def.level?.bind(cm.def),
      aggregates: cm.def.aggregates,
      record: cm.def.record,
    }));
  }

  twin(model: string, id: string): TwinView | undefined {
    const p = partitionOf(model, id);
    if (this.view.isLocal(p)) return this.localEngine(p)?.twin(model, id);
    return this.view.twin(p, model, id);
  }

  *twins(model: string): Iterable<TwinView> {
    if (!this.compiled.has(model)) throw new HextwinError('UNKNOWN_MODEL', `no model named ${JSON.stringify(model)}`);
    for (const r of this.runners.values()) if (this.view.isLocal(r.partition) && r.state !== 'stopped') yield* r.engine.twins(model);
    yield* this.view.twins(model);
  }

  twinCount(model?: string): number {
    let n = this.view.count(model);
    for (const r of this.runners.values()) if (this.view.isLocal(r.partition) && r.state !== 'stopped') n += r.engine.twinCount(model);
    return n;
  }

  alerts(filter: { model?: string; twinId?: string; minSeverity?: Severity; since?: number; acknowledged?: boolean; limit?: number } = {}): AlertRecord[] {
    return this.alertsIndex.query(filter);
  }

  twinAlerts(model: string, id: string, limit = 20): AlertRecord[] {
    return this.alertsIndex.forTwin(model, id, limit);
  }

  acknowledgeAlert(id: string): AlertRecord | undefined {
    const a = this.alertsIndex.get(id);
    if (!a) return undefined;
    const p = alertPartition(id);
    if (p !== undefined) {
      const local = this.writableEngine(p);
      if (local) local.acknowledgeAlert(id);
      else void this.ask(p, { op: 'ackAlert', id }).catch((err) => this.log.warn({ err, id }, 'acknowledging an alert at its owner failed'));
    }
    if (!a.acknowledged) {
      this.alertsIndex.acknowledge(id);
      this.emit('alertAcknowledged', a);
    }
    return a;
  }

  /** Geofence alarms: raised by the twin's owner, on its partition's engine (other nodes see it through the fan-out). */
  raiseAlert(model: string, id: string, input: AlertInput & { type: string }): AlertRecord | undefined {
    return this.localEngine(partitionOf(model, id))?.raiseAlert(model, id, input);
  }

  clearAlertByType(model: string, id: string, type: string): AlertRecord | undefined {
    return this.localEngine(partitionOf(model, id))?.clearAlertByType(model, id, type);
  }

  get mailboxDepth(): number {
    let n = 0;
    for (const r of this.runners.values()) n += r.engine.mailboxDepth;
    return n;
  }

  async sendCommand(model: string, id: string, command: JsonValue): Promise<CommandRecord> {
    if (!this.compiled.has(model)) throw new HextwinError('UNKNOWN_MODEL', `no model named ${JSON.stringify(model)}`);
    const p = partitionOf(model, id);
    const local = this.writableEngine(p);
    if (local) return local.sendCommand(model, id, command);
    return this.ask<CommandRecord>(p, { op: 'sendCommand', model, id, command });
  }

  pendingCommands(model: string, id: string): CommandRecord[] {
    const p = partitionOf(model, id);
    const local = this.localEngine(p);
    return local ? local.pendingCommands(model, id) : this.view.pendingCommands(p, model, id);
  }

  async ackCommands(model: string, id: string, cids?: string[]): Promise<number> {
    const p = partitionOf(model, id);
    const r = this.runners.get(p);
    if (r && r.state === 'running') {
      this.writableEngine(p);
      const n = await r.engine.ackCommands(model, id, cids);
      if (n) this.fanout.event(p, ['x', model, id, cids ?? null]);
      return n;
    }
    return this.ask<number>(p, { op: 'ackCommands', model, id, ...(cids ? { cids } : {}) });
  }

  async removeTwin(model: string, id: string): Promise<boolean> {
    if (!this.compiled.has(model)) throw new HextwinError('UNKNOWN_MODEL', `no model named ${JSON.stringify(model)}`);
    const existed = this.twin(model, id) !== undefined;
    if (!existed) return false;
    const p = partitionOf(model, id);
    // through the partition's log, so the removal is ordered with the twin's messages
    await this.publisher.publish(
      this.names.logSubject(p),
      encodeRecord({ groups: [{ source: null, envelopes: [{ model, id, message: null }] }], control: 'remove' }),
    );
    return true;
  }

  /** Resolves when every local engine has an empty mailbox (tests). */
  async idle(): Promise<void> {
    await Promise.all([...this.runners.values()].map((r) => r.engine.idle()));
  }

  // ---------------------------------------------------------------- status

  partitions(): PartitionStatus[] {
    const out: PartitionStatus[] = [];
    for (let p = 0; p < PARTITIONS; p++) out.push({ partition: p, owner: this.leases.get(p)?.owner ?? '', local: this.runners.get(p)?.state === 'running' });
    return out;
  }

  /** Live nodes with the number of partitions each owns (for the dashboard's status). */
  clusterNodes(): { id: string; partitions: number; self: boolean }[] {
    const counts = new Map<string, number>();
    for (let p = 0; p < PARTITIONS; p++) {
      const o = this.leases?.get(p)?.owner;
      if (o) counts.set(o, (counts.get(o) ?? 0) + 1);
    }
    const ids = new Set([...(this.membership?.members() ?? [this.self]), ...counts.keys()]);
    return [...ids].sort().map((id) => ({ id, partitions: counts.get(id) ?? 0, self: id === this.self }));
  }

  status(): NodeStatus {
    return {
      node: this.self,
      ready: this.ready,
      connected: this.conn?.connected ?? false,
      partitions: [...this.runners.values()].filter((r) => r.state === 'running').map((r) => r.partition),
      twins: [...this.runners.values()].reduce((n, r) => n + r.engine.twinCount(), 0),
      viewTwins: this.view?.count() ?? 0,
      members: this.membership?.nodes() ?? [],
      fenced: this.fence?.fenced ?? false,
      replicas: this.durability,
    };
  }

  // ---------------------------------------------------------------- scatter-gather

  /** Let the query layer compile `where` filters for partial aggregates on every node. */
  setFilterCompiler(compile: FilterCompiler): void {
    this.filterCompiler = compile;
  }

  compileFilter(model: string, where: JsonValue): TwinFilter {
    if (!this.filterCompiler) throw new HextwinError('INVALID_FILTER', 'this node has no filter language loaded');
    return this.filterCompiler(model, where);
  }

  localPartitions(): number[] {
    return [...this.runners.values()].filter((r) => r.state === 'running').map((r) => r.partition);
  }

  private async gather(req: GatherRequest): Promise<Uint8Array[]> {
    const replies = await this.transport.gather(this.names.gatherSubject, pack(req), {
      timeoutMs: 3_000,
      expect: this.membership.nodes().filter((n) => n.alive).length,
    });
    return replies.map((r) => r[0]!);
  }

  /** Groups over every twin of the cluster: each node aggregates the partitions it owns, this node merges. */
  async aggregate(model: string, opts: { groupBy?: string; metrics?: MetricSpec[]; where?: JsonValue } = {}): Promise<GatherResult<Group>> {
    if (!this.compiled.has(model)) throw new HextwinError('UNKNOWN_MODEL', `no model named ${JSON.stringify(model)}`);
    const metrics = opts.metrics ?? [];
    const answers = (
      await this.gather({
        op: 'aggregate',
        model,
        metrics,
        ...(opts.groupBy ? { groupBy: opts.groupBy } : {}),
        ...(opts.where !== undefined ? { where: opts.where } : {}),
      })
    ).map((b) => unpack<PartialAnswer>(b));
    return mergePartials(answers, metrics, true);
  }

  /** H3 cells at `resolution` over every located twin of the cluster, merged from every node's partials. */
  async hexAggregate(model: string, resolution: number, opts: { metrics?: MetricSpec[]; where?: JsonValue } = {}): Promise<GatherResult<Group>> {
    if (!this.compiled.has(model)) throw new HextwinError('UNKNOWN_MODEL', `no model named ${JSON.stringify(model)}`);
    const metrics = opts.metrics ?? [];
    const answers = (await this.gather({ op: 'hex', model, resolution, metrics, ...(opts.where !== undefined ? { where: opts.where } : {}) })).map((b) =>
      unpack<PartialAnswer>(b),
    );
    return mergePartials(answers, metrics, false);
  }

  /** Every live node's status. */
  async clusterStatus(): Promise<NodeStatus[]> {
    return (await this.gather({ op: 'status' })).map((b) => unpack<NodeStatus>(b)).sort((a, b) => (a.node < b.node ? -1 : 1));
  }

  /** The engines this node runs, for partial aggregates. */
  localTwins(model: string): Iterable<TwinView> {
    const self = this;
    return (function* () {
      for (const r of self.runners.values()) if (r.state === 'running' && r.engine.hasModel(model)) yield* r.engine.twins(model);
    })();
  }

  get transportForGather(): Transport {
    return this.transport;
  }

  get ownedCount(): number {
    let n = 0;
    for (const r of this.runners.values()) if (r.state === 'running') n++;
    return n;
  }

  get aliveCount(): number {
    return this.membership?.members().length ?? 0;
  }

  get viewCount(): number {
    return this.view?.count() ?? 0;
  }

  /** Whether this node holds its partitions because its heartbeats are not reaching NATS (fence.ts). */
  get fenced(): boolean {
    return this.fence?.fenced ?? false;
  }

  /** When it last started holding them (ms since the epoch; 0 while it acts as owner). */
  get fencedSince(): number {
    return this.fence?.since ?? 0;
  }

  /** Messages accepted here and not yet stored by JetStream. */
  get inFlight(): number {
    return this.batcher?.inFlight ?? 0;
  }
}

/** Cluster metrics on the server's registry. */
class ClusterMetrics {
  readonly logMessages: Counter;
  readonly logEnvelopes: Counter;
  readonly forwarded: Counter;
  readonly moves: Counter<'kind'>;
  readonly startSeconds: Gauge;
  readonly rejected: Counter<'reason'>;

  constructor(registry: Registry, node: ClusterNode) {
    const registers = [registry];
    this.logMessages = new Counter({
      name: 'hextwin_cluster_log_messages_total',
      help: 'JetStream messages stored by this node (each holds many envelopes)',
      registers,
    });
    this.logEnvelopes = new Counter({ name: 'hextwin_cluster_log_envelopes_total', help: 'Envelopes stored in the partition logs by this node', registers });
    this.forwarded = new Counter({ name: 'hextwin_cluster_forwarded_total', help: 'Twin-to-twin messages forwarded to other partitions', registers });
    this.moves = new Counter({
      name: 'hextwin_cluster_partition_moves_total',
      help: 'Partitions acquired, handed over or lost by this node',
      labelNames: ['kind'],
      registers,
    });
    this.rejected = new Counter({
      name: 'hextwin_cluster_log_rejected_total',
      help: 'Envelopes (or unreadable records) of the partition logs skipped because they failed validation, by error code',
      labelNames: ['reason'],
      registers,
    });
    new Gauge({
      name: 'hextwin_cluster_fenced',
      help: '1 while this node holds its partitions (heartbeats not reaching NATS), else 0',
      registers,
      collect() {
        this.set(node.fenced ? 1 : 0);
      },
    });
    this.startSeconds = new Gauge({
      name: 'hextwin_cluster_partition_start_seconds',
      help: 'Restore-and-replay time of the last partition this node took',
      registers,
    });
    new Gauge({
      name: 'hextwin_cluster_partitions_owned',
      help: 'Partitions this node owns',
      registers,
      collect() {
        this.set(node.ownedCount);
      },
    });
    new Gauge({
      name: 'hextwin_cluster_nodes_alive',
      help: 'Live nodes as this node sees them',
      registers,
      collect() {
        this.set(node.aliveCount);
      },
    });
    new Gauge({
      name: 'hextwin_cluster_view_twins',
      help: "Twins of other nodes' partitions this node keeps a copy of",
      registers,
      collect() {
        this.set(node.viewCount);
      },
    });
  }
}
