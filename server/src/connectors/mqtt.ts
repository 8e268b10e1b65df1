/**
 * The MQTT connector (when MQTT_URL is set): one MQTT 5 client with a persistent session that
 * subscribes to `hextwin/+/+/telemetry` (QoS 1), ingests each publish as one message for the twin
 * its topic names, and for QoS 1 lets the PUBACK go out only once the message is durable (so the
 * broker keeps and redelivers anything not yet safe). While the engine is overloaded it stops
 * acknowledging: the broker's in-flight window (our Receive Maximum) then stops it sending.
 * Commands for twins whose messages came over MQTT are published to `hextwin/{model}/{id}/commands`
 * (QoS 1, the model's JSON as payload, the command id as user property `cid`) and leave the
 * queue once the broker has them. Refused messages are logged, counted, answered with an MQTT 5
 * reason code and reported on `hextwin/{model}/{id}/errors`.
 */
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import { HextwinError, toCoded, type JsonValue } from '@hextwin/shared';
import { MqttTopics, parseTelemetryTopic } from '@hextwin/shared/protocol';
import type { Logger } from 'pino';
import type { AppContext } from '../app/feature.js';
import type { CommandRecord, Envelope, SourceRef } from '../engine/types.js';
import { ConnectorState, type Connector, type ConnectorStatus } from './connector.js';
import type { ConnectorCounters } from './connector-metrics.js';
import { MAX_JSON_DEPTH, nestsDeeperThan } from './json-depth.js';
import { NO_ACK, PubackHolder } from './mqtt-held-acks.js';
import type { Admission, Lane } from './admission.js';
import type { Principal } from '../auth/auth.js';

const SOURCE: SourceRef = { connector: 'mqtt' };
/**
 * The broker link as admission sees it: the broker authenticates and authorises its devices (its
 * ACLs are the MQTT scope), so the link may write every twin; its flow is held back by our acks.
 */
const BROKER: Principal = { name: 'mqtt-broker', role: 'operator', canWrite: () => true, canRead: false, canMutate: false };
/** Largest packet the broker may send us: payloads up to twice MAX_BODY_BYTES still get a coded refusal. */
export function maximumPacketSize(maxBodyBytes: number): number {
  return Math.min(268_435_455, 2 * maxBodyBytes + 65_536);
}
/**
 * Unacknowledged QoS 1 messages the broker may send us at once (MQTT 5 Receive Maximum). Brokers
 * keep to it loosely (mosquitto 2.0 refills its whole quota on each PUBACK), but while we hold
 * acks it stops sending soon after.
 */
export const RECEIVE_MAXIMUM = 1_000;
/** QoS 0 messages queued (nothing limits their flow) before further ones are dropped as OVERLOADED */
const MAX_QUEUED_QOS0 = 10_000;
const BACKOFF_MIN_MS = 250;
const BACKOFF_MAX_MS = 30_000;

/** MQTT 5 reason code for a refused message (PUBACK); NO_ACK leaves it with the broker. */
export function reasonCodeFor(code: string): number {
  switch (code) {
    case 'UNKNOWN_MODEL':
    case 'INVALID_ID':
      return 0x90; // topic name invalid
    case 'INVALID_JSON':
    case 'INVALID_MESSAGE':
      return 0x99; // payload format invalid
    case 'FORBIDDEN':
      return 0x87; // not authorized
    case 'PAYLOAD_TOO_LARGE':
      return 0x95; // packet too large
    case 'OVERLOADED':
    case 'RATE_LIMITED':
      return 0x97; // quota exceeded
    case 'NOT_READY':
    case 'SHUTTING_DOWN':
    case 'STORE_FAILED':
      return NO_ACK;
    default:
      return 0x80; // unspecified error
  }
}

interface Queued {
  envelope: Envelope;
  t0: number;
  resolve: (code: number) => void;
}

/** MQTT_URL without its password, for logs and /readyz. */
export function redactUrl(raw: string): string {
  try {
    const u = new URL(raw);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(invalid url)';
  }
}

export class MqttConnector implements Connector {
  readonly name = 'mqtt';
  private client: MqttClient | null = null;
  private holder: PubackHolder | null = null;
  private state: ConnectorState = ConnectorState.Stopped;
  private lastError = '';
  private attempts = 0;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private stopping = false;
  /** in a cluster, while another node holds the MQTT role */
  private standby = false;
  /** valid messages taken in and not yet handed to the engine, in arrival order */
  private queue: Queued[] = [];
  private flushScheduled = false;
  private waitingForEngine = false;
  /** twins with commands that could not be published yet */
  private readonly backlog = new Map<string, { model: string; id: string }>();
  /** command ids published and not yet confirmed by the broker */
  private readonly inflight = new Set<string>();
  /** twins whose queued commands were re-published since the last connect: model -> ids */
  private seen = new Map<string, Set<string>>();
  private readonly log: Logger;
  private readonly refusalLog = new Map<string, { at: number; suppressed: number }>();
  private readonly lane: Lane;

  constructor(
    private readonly ctx: AppContext,
    private readonly counters: ConnectorCounters,
    private readonly url: string,
    private readonly admission: Admission,
  ) {
    this.log = ctx.logger.child({ part: 'mqtt', url: redactUrl(url) });
    this.lane = admission.open(BROKER, { rateLimited: false });
  }

  async start(): Promise<void> {
    this.state = ConnectorState.Connecting;
    this.ctx.readyCheck('mqtt', () =>
      this.state === ConnectorState.Up || this.state === ConnectorState.Standby
        ? null
        : `not connected to the MQTT broker ${redactUrl(this.url)}${this.lastError ? `: ${this.lastError}` : ''}`,
    );
    const roles = this.ctx.engine.roles;
    if (roles) {
      // a cluster: only the node holding the role subscribes (one session, so each message once, in order)
      this.standby = !roles.holds('mqtt');
      if (this.standby) this.state = ConnectorState.Standby;
      roles.on('mqtt', (held) => (held ? this.activate() : void this.deactivate()));
    }
    // connect once state is restored: messages taken before would only be refused with NOT_READY
    if (this.ctx.engine.ready) this.connect();
    else this.ctx.engine.on('ready', () => this.connect());
  }

  /** This node now takes MQTT telemetry in (cluster). */
  private activate(): void {
    if (!this.standby || this.stopping) return;
    this.standby = false;
    this.state = ConnectorState.Connecting;
    this.attempts = 0;
    if (this.ctx.engine.ready) this.connect();
  }

  /** Another node takes MQTT telemetry in from now on: hand the session back to the broker (cluster). */
  private async deactivate(): Promise<void> {
    if (this.standby || this.stopping) return;
    this.standby = true;
    this.state = ConnectorState.Standby;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    const client = this.client;
    this.client = null;
    if (client) {
      await Promise.race([this.holder!.drained(), new Promise((r) => setTimeout(r, 2_000).unref())]);
      await client.endAsync().catch(() => undefined);
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    const client = this.client;
    if (client) {
      // let PUBACKs of messages already taken in go out, so the broker does not redeliver them
      await Promise.race([this.holder!.drained(), new Promise((r) => setTimeout(r, 2_000).unref())]);
      await client.endAsync().catch(() => undefined);
    }
    this.state = ConnectorState.Stopped;
    this.lane.close();
  }

  status(): ConnectorStatus {
    return { state: this.state, connections: this.client?.connected ? 1 : 0 };
  }

  private connect(): void {
    if (this.stopping || this.standby || this.client) return;
    const options: IClientOptions = {
      protocolVersion: 5,
      clientId: this.ctx.config.mqttClientId,
      clean: false,
      properties: { sessionExpiryInterval: 3_600, receiveMaximum: RECEIVE_MAXIMUM, maximumPacketSize: maximumPacketSize(this.ctx.config.maxBodyBytes) },
      reconnectPeriod: 0, // we reconnect ourselves, with exponential back-off
      connectTimeout: 10_000,
      keepalive: 30,
      customHandleAcks: (topic, payload, packet, done) => this.onQos1(topic, payload as Buffer, packet, done),
    };
    const client = mqtt.connect(this.url, options);
    this.client = client;
    this.holder = new PubackHolder(client);
    if (!this.holder.supported) this.log.warn('this mqtt.js cannot hold PUBACKs; acknowledging QoS 1 messages one durable write at a time');
    client.on('connect', () => this.onConnect());
    client.on('message', (topic, payload, packet) => {
      if (packet.qos === 0) void this.take(topic, payload, 0);
    });
    client.on('close', () => this.onClose());
    client.on('error', (e) => {
      this.lastError = e.message;
      this.log.warn({ err: e.message }, 'MQTT connection error');
    });
  }

  private onConnect(): void {
    this.attempts = 0;
    this.lastError = '';
    this.state = ConnectorState.Up;
    this.holder!.newConnection();
    this.seen = new Map();
    this.client!.subscribe(MqttTopics.telemetrySubscription, { qos: 1 }, (err) => {
      if (err) {
        this.lastError = `subscribe failed: ${err.message}`;
        this.log.error({ err }, 'MQTT subscribe failed');
      }
    });
    this.log.info('connected to the MQTT broker');
    const backlog = [...this.backlog.values()];
    this.backlog.clear();
    for (const t of backlog) for (const c of this.ctx.engine.pendingCommands(t.model, t.id)) this.publishCommand(c);
  }

  private onClose(): void {
    if (this.stopping || this.standby) return;
    if (this.state === ConnectorState.Up) this.log.warn('lost the MQTT broker; reconnecting');
    this.state = ConnectorState.Connecting;
    if (this.reconnectTimer) return;
    const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** this.attempts++);
    const delay = Math.round(base / 2 + (Math.random() * base) / 2);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (this.stopping || !this.client) return;
      // keep the stores: QoS 1 commands in flight are re-sent on the new connection
      this.client.reconnect({ incomingStore: this.client.incomingStore, outgoingStore: this.client.outgoingStore });
    }, delay);
    this.reconnectTimer.unref();
  }

  // ------------------------------------------------------------------ telemetry in

  private onQos1(topic: string, payload: Buffer, packet: IPublishPacket, done: (errOrCode: Error | number, code?: number) => void): void {
    const holder = this.holder!;
    const messageId = packet.messageId!;
    const outcome = (packet.dup && holder.redelivered(messageId, topic, payload)) || this.take(topic, payload, 1);
    if (holder.supported) {
      holder.hold(messageId, topic, payload, outcome);
      done(0);
    } else {
      void outcome.then((code) => done(code === NO_ACK ? 0x80 : code));
    }
  }

  /**
   * Take in one publish; resolves to the reason code to acknowledge it with. Each message is
   * validated on its own (a bad one is refused alone), then the valid messages taken in during one
   * event-loop turn go to the engine as one batch: one log write for all of them.
   */
  private take(topic: string, payload: Buffer, qos: 0 | 1): Promise<number> {
    const t0 = performance.now();
    const key = parseTelemetryTopic(topic);
    if (!key) return Promise.resolve(this.refuse(undefined, new HextwinError('INVALID_ID', `not a telemetry topic: ${topic}`)));
    const max = this.ctx.config.maxBodyBytes;
    if (payload.length > max)
      return Promise.resolve(
        this.refuse(key, new HextwinError('PAYLOAD_TOO_LARGE', `${topic}: the payload is ${payload.length} bytes; at most ${max} (MAX_BODY_BYTES)`)),
      );
    if (nestsDeeperThan(payload))
      return Promise.resolve(this.refuse(key, new HextwinError('INVALID_MESSAGE', `${topic}: the payload nests more than ${MAX_JSON_DEPTH} levels deep`)));
    let message: JsonValue;
    try {
      message = JSON.parse(payload.toString('utf8')) as JsonValue;
    } catch {
      return Promise.resolve(this.refuse(key, new HextwinError('INVALID_JSON', `${topic}: the payload is not valid JSON`)));
    }
    const envelope: Envelope = { model: key.model, id: key.id, message };
    try {
      this.admission.admit(this.lane, [envelope], t0);
    } catch (e) {
      return Promise.resolve(this.refuse(key, e));
    }
    if (qos === 0 && this.queue.length >= MAX_QUEUED_QOS0) {
      // QoS 1 is held back by the acks we hold; QoS 0 has no flow control: drop it
      return Promise.resolve(this.refuse(key, new HextwinError('OVERLOADED', 'the engine is at capacity; QoS 0 message dropped')));
    }
    return new Promise<number>((resolve) => {
      this.queue.push({ envelope, t0, resolve });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.flushScheduled || this.waitingForEngine) return;
    this.flushScheduled = true;
    setImmediate(this.flush);
  }

  /** Hand the queued messages to the engine as one batch, or wait while it is overloaded. */
  private readonly flush = (): void => {
    this.flushScheduled = false;
    if (this.queue.length === 0) return;
    if (this.admission.overloaded) {
      // hold the acks: the broker stops sending once our Receive Maximum is in flight
      this.waitingForEngine = true;
      this.counters.backpressure.inc();
      void this.admission.whenAccepting().then(() => {
        this.waitingForEngine = false;
        this.schedule();
      });
      return;
    }
    const items = this.queue.length <= this.ctx.config.maxBatch ? this.queue : this.queue.slice(0, this.ctx.config.maxBatch);
    this.queue = items === this.queue ? [] : this.queue.slice(items.length);
    const envelopes = items.map((p) => p.envelope);
    this.admission.submit(envelopes, SOURCE).then(
      () => {
        this.counters.messagesIn.inc(items.length);
        const now = performance.now();
        for (const p of items) {
          this.counters.ackSeconds.observe((now - p.t0) / 1000);
          this.firstSight(p.envelope.model, p.envelope.id);
          p.resolve(0);
        }
      },
      (e) => {
        for (const p of items) p.resolve(this.refuse(p.envelope, e));
      },
    );
    if (this.queue.length > 0) this.schedule();
  };

  private refuse(key: { model: string; id: string } | undefined, e: unknown): number {
    const coded = toCoded(e);
    this.counters.error(coded.code);
    if (coded.code === 'INTERNAL') this.log.error({ err: e }, 'MQTT ingest failed');
    else this.logRefusal(coded.code, key, coded.message);
    if (key && this.client?.connected) {
      this.client.publish(MqttTopics.errors(key.model, key.id), JSON.stringify(coded.toJSON()), { qos: 0 });
    }
    return reasonCodeFor(coded.code);
  }

  /** Log a refused message: the first of each code, then at most one per code every 10 s with a count. */
  private logRefusal(code: string, key: { model: string; id: string } | undefined, message: string): void {
    const now = Date.now();
    const last = this.refusalLog.get(code);
    if (last && now - last.at < 10_000) {
      last.suppressed++;
      return;
    }
    this.log.warn({ code, model: key?.model, id: key?.id, alsoRefusedSinceLastLog: last?.suppressed ?? 0 }, message);
    this.refusalLog.set(code, { at: now, suppressed: 0 });
  }

  // ------------------------------------------------------------------ commands out

  deliverCommand(record: CommandRecord): boolean {
    if (!this.client?.connected) {
      this.backlog.set(record.model + '/' + record.id, { model: record.model, id: record.id });
      return false;
    }
    this.publishCommand(record);
    return true;
  }

  private publishCommand(record: CommandRecord): void {
    if (this.inflight.has(record.cid)) return;
    this.inflight.add(record.cid);
    const topic = MqttTopics.commands(record.model, record.id);
    this.client!.publish(topic, JSON.stringify(record.command), { qos: 1, properties: { userProperties: { cid: record.cid } } }, (err) => {
      this.inflight.delete(record.cid);
      if (err) {
        this.backlog.set(record.model + '/' + record.id, { model: record.model, id: record.id });
        return;
      }
      this.counters.commandsDelivered.inc();
      this.ctx.engine.ackCommands(record.model, record.id, [record.cid]).catch((e) => this.log.warn({ err: e }, 'command ack failed'));
    });
  }

  /** The first message of a twin since we connected: publish commands queued for it meanwhile. */
  private firstSight(model: string, id: string): void {
    let ids = this.seen.get(model);
    if (!ids) this.seen.set(model, (ids = new Set()));
    if (ids.has(id)) return;
    ids.add(id);
    for (const c of this.ctx.engine.pendingCommands(model, id)) this.publishCommand(c);
  }
}
