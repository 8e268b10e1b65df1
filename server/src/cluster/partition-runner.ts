/**
 * One partition this node owns: its NatsStore, its Engine, the ordered consumer that feeds the
 * engine from the partition's log, the request subject that answers for it, and the forwarding of
 * its events to the fan-out and to this node's listeners.
 *
 * Start: open the store (which claims the partition), start the engine (restore the checkpoint,
 * replay the log past it), then consume from the first unread sequence. Graceful stop: stop
 * consuming, drain, write a final checkpoint. Abandon (the lease was lost): stop at once and write
 * nothing — the next owner starts from the last checkpoint.
 */
import type { Logger } from 'pino';
import type { ConsumerMessages } from '@nats-io/jetstream';
import { HextwinError, partition as partitionOf, type ModelDefinition } from '@hextwin/shared';
import { Engine, type ForwardItem, type ReferenceSource } from '../engine/engine.js';
import type { EngineMetrics } from '../engine/metrics.js';
import type { Clock } from '../engine/clock.js';
import type { AlertRecord, CommandRecord, EngineEventName, EngineEvents, QuarantineRecord, TwinView } from '../engine/types.js';
import type { ModelWatchdog } from '../engine/watchdog.js';
import type { DurableTable } from '../store/store.js';
import type { Envelope } from '../engine/types.js';
import { pack, unpack } from './codec.js';
import { HeldClock } from './held-clock.js';
import { LogAdmission } from './log-admission.js';
import { NatsStore } from './nats-store.js';
import { snapOf, type EventFanout, type TwinSnap } from './events.js';
import type { ClusterStreams } from './jetstream.js';
import type { ClusterNames } from './names.js';
import type { Subscription, Transport } from './transport.js';
import type { JsPublisher } from './js-publisher.js';
import { partitionTag } from './alert-index.js';
import type { Snapshot } from './cluster-view.js';

export interface RunnerDeps {
  streams: ClusterStreams;
  names: ClusterNames;
  transport: Transport;
  fanout: EventFanout;
  models: ModelDefinition[];
  metrics: EngineMetrics;
  reference: ReferenceSource;
  shared: DurableTable<unknown>;
  clock: Clock;
  logger: Logger;
  checkpointMs: number;
  maxQueued: number;
  baseDir: string;
  /** bytes per reply chunk and fan-out message */
  maxBytes: number;
  forward(from: number, items: ForwardItem[]): Promise<void>;
  publisher: JsPublisher;
  /** the node's validation of envelopes (known model, valid id, schema), applied again to what the log holds */
  validate(envelopes: Envelope[]): void;
  /** envelopes of the log skipped because they failed that validation */
  onRejected(reason: string, n: number, partition: number): void;
  /** ms an async batch may take before MODEL_TIMEOUT quarantines the twin (0: no limit) */
  modelTimeoutMs: number;
  /** the process's model watchdog (null: off) */
  watchdog: ModelWatchdog | null;
  /** the cluster's quarantine records for this partition, read afresh (restored before the log is replayed) */
  quarantined(partition: number): Promise<QuarantineRecord[]>;
  /** the engine quarantined a twin itself (an async timeout, an unencodable state): make it cluster-wide */
  onQuarantined(rec: QuarantineRecord): void;
  /** this node's listeners */
  emit<K extends EngineEventName>(event: K, payload: EngineEvents[K], partition: number): void;
}

/** Requests the owner of a partition answers. */
export type PartitionRequest =
  | { op: 'twin'; model: string; id: string }
  | { op: 'snapshot' }
  | { op: 'sendCommand'; model: string; id: string; command: unknown }
  | { op: 'ackCommands'; model: string; id: string; cids?: string[] }
  | { op: 'ackAlert'; id: string };

export type RunnerState = 'starting' | 'running' | 'stopping' | 'stopped';

const SNAPSHOT_ALERTS = 200;

export class PartitionRunner {
  state: RunnerState = 'starting';
  readonly engine: Engine;
  readonly store: NatsStore;
  private rpc: Subscription | null = null;
  private messages: ConsumerMessages | null = null;
  private consuming: Promise<void> | null = null;
  /** bumped when the consumer is replaced, so the old one's remaining messages are dropped */
  private generation = 0;
  private silenced = false;
  private unlisten: (() => void)[] = [];
  /** ms the last start took (restore + replay) */
  startMs = 0;
  /** the engine's clock: held (no timers fire) while the node may no longer be the owner */
  private readonly clock: HeldClock;
  /** effects (alerts, commands) raised while held, sent once ownership is confirmed */
  private heldEffects: (() => void)[] = [];
  /** the lease turned out to belong to another node: stop without a checkpoint */
  leaseLost = false;
  private readonly admission: LogAdmission;
  private rejectedLogged = 0;

  constructor(
    private readonly d: RunnerDeps,
    readonly partition: number,
    readonly epoch: number,
  ) {
    const log = d.logger.child({ partition });
    this.clock = new HeldClock(d.clock);
    this.admission = new LogAdmission({
      partition,
      hasModel: (m) => d.models.some((def) => def.name === m),
      validate: (envs) => d.validate(envs),
      onReject: (reason, n, detail) => {
        d.onRejected(reason, n, partition);
        // a flood of forged records must not flood the log too
        if (this.rejectedLogged++ < 5 || this.rejectedLogged % 1000 === 0) log.warn({ reason, n, detail }, 'skipping log input that fails validation');
      },
    });
    this.store = new NatsStore({
      js: d.streams.js,
      jsm: d.streams.jsm,
      names: d.names,
      partition,
      shared: d.shared,
      chunkBytes: d.maxBytes,
      logger: log,
      readTail: false,
      publisher: d.publisher,
      admission: this.admission,
    });
    this.engine = new Engine({
      store: this.store,
      clock: this.clock,
      models: d.models,
      logger: log,
      metrics: d.metrics,
      reference: d.reference,
      maxQueued: d.maxQueued,
      checkpointMs: d.checkpointMs,
      baseDir: d.baseDir,
      nodeTag: partitionTag(partition),
      modelAsyncTimeoutMs: d.modelTimeoutMs,
      ...(d.watchdog ? { watchdog: d.watchdog } : {}),
      quarantineSource: () => d.quarantined(partition),
      route: { isLocal: (m, id) => partitionOf(m, id) === partition, forward: (items) => d.forward(partition, items) },
    });
    this.listen();
  }

  private listen(): void {
    const p = this.partition;
    const { fanout } = this.d;
    const on = <K extends EngineEventName>(event: K, fn: (payload: EngineEvents[K]) => void) =>
      this.unlisten.push(
        this.engine.on(event, (payload) => {
          if (this.silenced) return;
          const send = () => {
            fn(payload);
            this.d.emit(event, payload, p);
          };
          // effects that leave the cluster wait while this node may no longer own the partition
          if (this.clock.isHeld && (event === 'alert' || event === 'command')) this.heldEffects.push(send);
          else send();
        }),
      );
    on('twinChanged', (e) => fanout.twinChanged(p, e.twin, e.created));
    on('twinRemoved', (e) => fanout.event(p, ['r', e.model, e.id]));
    on('alert', (a) => fanout.event(p, ['a', a]));
    on('alertAcknowledged', (a) => fanout.event(p, ['k', a.id]));
    on('command', (c) => fanout.event(p, ['c', c.record, c.source]));
    on('modelError', () => undefined);
    this.unlisten.push(this.engine.on('quarantined', (rec) => this.silenced || this.d.onQuarantined(rec)));
  }

  /** Whether timers and effects are held (the node is cut off from NATS). */
  get held(): boolean {
    return this.clock.isHeld;
  }

  /** Stop acting as owner: timers wait, alerts and commands are kept back, writes are refused. */
  hold(): void {
    this.clock.hold();
  }

  /** The lease is confirmed ours again: fire the timers that came due and send what was kept back. */
  release(): void {
    if (!this.clock.isHeld) return;
    const effects = this.heldEffects;
    this.heldEffects = [];
    this.clock.release();
    if (!this.silenced) for (const send of effects) send();
  }

  async start(): Promise<void> {
    const t0 = performance.now();
    await this.engine.start();
    if (this.state !== 'starting') return;
    this.d.fanout.register(this.partition, this.epoch);
    this.rpc = this.d.transport.serve(this.d.names.partitionRpc(this.partition), (data) => this.answer(unpack<PartitionRequest>(data)), { queue: 'owner' });
    this.state = 'running';
    this.consuming = this.consumeLoop(this.generation);
    this.startMs = performance.now() - t0;
  }

  /**
   * Consume again from the first sequence not yet noted (after a reconnect: a restarted server has
   * forgotten the ephemeral consumer, and the client would notice only after missed heartbeats).
   */
  restartConsumer(): void {
    if (this.state !== 'running') return;
    const old = this.messages;
    const previous = this.consuming;
    const gen = ++this.generation;
    old?.stop();
    this.consuming = (async () => {
      await previous;
      await this.consumeLoop(gen);
    })();
  }

  /** Consume until stopped or replaced; a consumer that fails or ends is created again where it left off. */
  private async consumeLoop(gen: number): Promise<void> {
    for (let attempt = 0; this.state === 'running' && gen === this.generation; attempt++) {
      try {
        await this.consume(gen);
        attempt = 0;
        // the consumer ended by itself: start another shortly
        if (this.state === 'running' && gen === this.generation) await new Promise((r) => setTimeout(r, 100));
      } catch (err) {
        if (this.state !== 'running' || gen !== this.generation) return;
        if (attempt === 0) this.d.logger.warn({ err, partition: this.partition }, 'consuming the partition log failed; starting again');
        await new Promise((r) => setTimeout(r, Math.min(2_000, 100 * 2 ** attempt)));
      }
    }
  }

  /** Feed the engine from the log, in order, pausing while its mailboxes are full. */
  private async consume(gen: number): Promise<void> {
    const { js } = this.d.streams;
    const c = await js.consumers.get(this.d.names.logStream, {
      filter_subjects: this.d.names.logSubject(this.partition),
      opt_start_seq: this.store.nextLogSeq,
    });
    // short pulls: a consumer the server lost is noticed (missed heartbeats) within seconds
    const messages = await c.consume({ max_messages: 256, expires: 5_000 });
    this.messages = messages;
    if (this.state !== 'running' || gen !== this.generation) messages.stop();
    for await (const m of messages) {
      if (this.state !== 'running' || gen !== this.generation) break;
      if (m.seq < this.store.nextLogSeq) continue; // already enqueued by the consumer this one replaced
      let first = -1;
      const w = this.admission.decode(m.data);
      try {
        const note = (pos: number) => void (first < 0 && (first = pos));
        for (const g of w.groups) {
          let at = 0;
          for (const run of g.runs) {
            // a rejected envelope keeps its position, empty, so replays number the rest alike
            for (; at < run.offset; at++) note(this.engine.enqueueDurable({ envelopes: [], source: null }));
            note(
              this.engine.enqueueDurable({
                envelopes: run.envelopes,
                source: g.source,
                ...(w.hops ? { hops: w.hops } : {}),
                ...(w.control ? { control: w.control } : {}),
              }),
            );
            at += run.envelopes.length;
          }
          for (; at < g.size; at++) note(this.engine.enqueueDurable({ envelopes: [], source: null }));
        }
      } catch (err) {
        if (this.engine.failure || this.state !== 'running') break;
        throw err;
      }
      if (first < 0) first = this.engine.enqueueDurable({ envelopes: [], source: null });
      this.store.noteConsumed(m.seq, first, w.size);
      if (this.engine.overloaded) await this.engine.whenAccepting();
    }
  }

  private async answer(req: PartitionRequest): Promise<Uint8Array[]> {
    if (this.state !== 'running') throw new HextwinError('CLUSTER_UNAVAILABLE', `partition ${this.partition} is moving`);
    if (this.held && req.op !== 'twin' && req.op !== 'snapshot')
      throw new HextwinError('CLUSTER_UNAVAILABLE', `partition ${this.partition}: its owner is confirming its lease`);
    const e = this.engine;
    switch (req.op) {
      case 'twin': {
        const t = e.twin(req.model, req.id);
        return [pack(t ? snapOf(t) : null)];
      }
      case 'snapshot':
        return this.snapshot();
      case 'sendCommand':
        return [pack(await e.sendCommand(req.model, req.id, req.command as never))];
      case 'ackCommands': {
        const n = await e.ackCommands(req.model, req.id, req.cids);
        if (n) this.d.fanout.event(this.partition, ['x', req.model, req.id, req.cids ?? null]);
        return [pack(n)];
      }
      case 'ackAlert': {
        const a = e.acknowledgeAlert(req.id);
        if (a) await this.store.flushed();
        return [pack(a ?? null)];
      }
      default:
        throw new HextwinError('BAD_REQUEST', `unknown partition request ${JSON.stringify((req as { op: unknown }).op)}`);
    }
  }

  /** Every twin, recent alerts and pending commands, at the current point of the event numbering. */
  snapshot(): Uint8Array[] {
    // number everything emitted so far first, so the snapshot's seq covers what its state contains
    this.d.fanout.flush();
    const pos = this.d.fanout.position(this.partition) ?? { epoch: this.epoch, seq: 0 };
    const twins: TwinSnap[] = [];
    for (const cm of this.engine.compiledModels()) for (const t of cm.twins.values()) twins.push(snapOf(t));
    const alerts: AlertRecord[] = this.engine.alerts({ limit: SNAPSHOT_ALERTS });
    const commands: CommandRecord[] = [...this.store.table<CommandRecord>('commands').entries()].map(([, c]) => c);
    const chunks: Uint8Array[] = [pack({ epoch: pos.epoch, seq: pos.seq, twins: [], alerts, commands } satisfies Snapshot)];
    // twins in chunks below the message size limit: halve a chunk that comes out too big
    const put = (from: number, to: number): void => {
      if (from >= to) return;
      const b = pack({ epoch: pos.epoch, seq: pos.seq, twins: twins.slice(from, to), alerts: [], commands: [] } satisfies Snapshot);
      if (b.length > this.d.maxBytes && to - from > 1) {
        const mid = (from + to) >> 1;
        put(from, mid);
        put(mid, to);
      } else chunks.push(b);
    };
    for (let i = 0; i < twins.length; i += 500) put(i, Math.min(twins.length, i + 500));
    return chunks;
  }

  /** This partition's twins, for the view to keep after a handover. */
  twins(): TwinView[] {
    const out: TwinView[] = [];
    for (const cm of this.engine.compiledModels()) for (const t of cm.twins.values()) out.push(t);
    return out;
  }

  commands(): CommandRecord[] {
    return [...this.store.table<CommandRecord>('commands').entries()].map(([, c]) => c);
  }

  get failure(): Error | null {
    return this.engine.failure;
  }

  /** Graceful: drain, final checkpoint, close. Otherwise: stop at once and write nothing. */
  async stop(graceful: boolean): Promise<void> {
    if (this.state === 'stopping' || this.state === 'stopped') return;
    this.state = 'stopping';
    this.rpc?.unsubscribe();
    this.messages?.stop();
    await this.consuming;
    this.d.fanout.flush();
    if (!graceful || this.engine.failure) {
      this.silenced = true;
      this.store.abandon();
    }
    try {
      await this.engine.stop();
    } catch (err) {
      if (graceful && !this.engine.failure)
        this.d.logger.warn({ err, partition: this.partition }, 'final checkpoint failed; the next owner replays from the previous one');
      await this.store.close().catch(() => undefined);
    }
    this.d.fanout.flush();
    this.d.fanout.unregister(this.partition);
    for (const u of this.unlisten) u();
    this.state = 'stopped';
  }
}
