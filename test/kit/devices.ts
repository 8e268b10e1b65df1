/**
 * One device per channel, behind one interface, so the connector contract can drive REST,
 * WebSocket and MQTT alike. Each device receives its commands on its own channel: the REST pull
 * list, WebSocket command frames, or the MQTT commands topic.
 */
import { randomUUID } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import type { JsonValue } from '@hextwin/shared';
import { MqttTopics } from '@hextwin/shared/protocol';
import { ackCommands, postMessages, request, waitForCommand } from './rest-client.js';
import { Refusal, WsClient, withTimeout } from './ws-client.js';

export interface Device {
  /** Send messages for one twin; resolves once the channel acknowledged them, rejects with a Refusal. */
  send(model: string, id: string, messages: JsonValue[]): Promise<void>;
  /** Send one message as raw text and return the code of the refusal, however the channel reports it. */
  refusal(model: string, id: string, rawMessage: string): Promise<string>;
  /** The next command for the twin, as the model sent it, received on this device's own channel. */
  nextCommand(model: string, id: string, pred?: (c: any) => boolean): Promise<JsonValue>;
  close(): Promise<void>;
}

export class RestDevice implements Device {
  constructor(
    private readonly url: string,
    private readonly key?: string,
  ) {}

  async send(model: string, id: string, messages: JsonValue[]): Promise<void> {
    await postMessages(this.url, model, id, messages, this.key);
  }

  async refusal(model: string, id: string, rawMessage: string): Promise<string> {
    const r = await request(this.url, 'POST', `/api/v1/messages/${model}/${encodeURIComponent(id)}`, { key: this.key, body: rawMessage });
    if (r.status === 202) throw new Error(`expected a refusal, got 202 for ${rawMessage}`);
    return r.body.error.code as string;
  }

  async nextCommand(model: string, id: string, pred: (c: any) => boolean = () => true): Promise<JsonValue> {
    const c = await waitForCommand(this.url, model, id, (x) => pred(x.command), this.key);
    await ackCommands(this.url, model, id, [c.id], this.key);
    return c.command;
  }

  async close(): Promise<void> {}
}

export class WsDevice implements Device {
  private constructor(readonly client: WsClient) {}

  static async connect(url: string, key?: string): Promise<WsDevice> {
    return new WsDevice(await WsClient.connect(url, { key }));
  }

  async send(model: string, id: string, messages: JsonValue[]): Promise<void> {
    await this.client.send(messages.map((message) => ({ model, id, message })));
  }

  async refusal(model: string, id: string, rawMessage: string): Promise<string> {
    const fid = randomUUID();
    const pending = this.client.outcome(fid).then(
      () => 'ACCEPTED',
      (e: Refusal) => e.code,
    );
    // the frame text is built by hand: the raw message may not even be JSON
    this.client.raw(`{"type":"msg","fid":${JSON.stringify(fid)},"model":${JSON.stringify(model)},"id":${JSON.stringify(id)},"message":${rawMessage}}`);
    const code = await Promise.race([pending, this.client.nextError().then((e) => e.code)]);
    if (code === 'ACCEPTED') throw new Error(`expected a refusal for ${rawMessage}`);
    return code;
  }

  async nextCommand(model: string, id: string, pred: (c: any) => boolean = () => true): Promise<JsonValue> {
    const c = await this.client.nextCommand((f) => f.model === model && f.id === id && pred(f.command));
    this.client.ackCommands([c.cid]);
    return c.command;
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

/** An MQTT 5 device; it subscribes to its twin's commands and errors topics. */
export class MqttDevice implements Device {
  private readonly inbox: { topic: string; payload: string }[] = [];
  private waiters: { pred: (topic: string, payload: string) => boolean; resolve: (payload: string) => void }[] = [];

  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload) => {
      const text = payload.toString();
      const i = this.waiters.findIndex((w) => w.pred(topic, text));
      if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve(text);
      else this.inbox.push({ topic, payload: text });
    });
  }

  static async connect(brokerUrl: string, twin: { model: string; id: string }, auth?: { username: string; password: string }): Promise<MqttDevice> {
    const client = await mqtt.connectAsync(brokerUrl, { protocolVersion: 5, clientId: `device-${randomUUID().slice(0, 8)}`, reconnectPeriod: 0, ...auth });
    await client.subscribeAsync([MqttTopics.commands(twin.model, twin.id), MqttTopics.errors(twin.model, twin.id)], { qos: 1 });
    return new MqttDevice(client);
  }

  private next(pred: (topic: string, payload: string) => boolean, what: string, timeoutMs = 15_000): Promise<string> {
    const i = this.inbox.findIndex((m) => pred(m.topic, m.payload));
    if (i >= 0) return Promise.resolve(this.inbox.splice(i, 1)[0]!.payload);
    return withTimeout(new Promise((resolve) => this.waiters.push({ pred, resolve })), timeoutMs, what);
  }

  async send(model: string, id: string, messages: JsonValue[]): Promise<void> {
    await Promise.all(messages.map((m) => this.publish(MqttTopics.telemetry(model, id), JSON.stringify(m))));
  }

  private async publish(topic: string, payload: string): Promise<void> {
    try {
      await this.client.publishAsync(topic, payload, { qos: 1 });
    } catch (e) {
      const rc = (e as { code?: number }).code;
      throw new Refusal(rc === 135 ? 'FORBIDDEN' : `MQTT_REASON_${rc}`, (e as Error).message);
    }
  }

  async refusal(model: string, id: string, rawMessage: string): Promise<string> {
    const errors = MqttTopics.errors(model, id);
    const error = this.next((t) => t === errors, `an error on ${errors}`);
    try {
      await this.publish(MqttTopics.telemetry(model, id), rawMessage);
    } catch (e) {
      error.catch(() => undefined);
      return (e as Refusal).code;
    }
    return (JSON.parse(await error) as { error: { code: string } }).error.code;
  }

  async nextCommand(model: string, id: string, pred: (c: any) => boolean = () => true): Promise<JsonValue> {
    const topic = MqttTopics.commands(model, id);
    return JSON.parse(await this.next((t, p) => t === topic && pred(JSON.parse(p)), `a command on ${topic}`)) as JsonValue;
  }

  async close(): Promise<void> {
    await this.client.endAsync();
  }
}
