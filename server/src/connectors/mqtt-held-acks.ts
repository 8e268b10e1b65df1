/**
 * PUBACKs held until the message is durable.
 *
 * mqtt.js (5.x) handles incoming packets one at a time: for a QoS 1 PUBLISH it calls
 * `customHandleAcks`, and reads the next packet only after that callback was answered and the
 * PUBACK written. Answering only once the message is durable would allow one message per disk
 * flush. So the connector answers at once and this holder intercepts the PUBACK mqtt.js then
 * writes, sending it itself when the message's outcome is known, in arrival order, on the same
 * connection only (a PUBACK owed by a closed connection is never sent: the broker redelivers the
 * message, and `redelivered` recognises it so it is not applied twice).
 *
 * The interception wraps the client's internal `_sendPacket`; when a future mqtt.js lacks it,
 * `supported` is false and the connector answers the callback only once durable (slower, same
 * guarantee).
 */
import type { MqttClient } from 'mqtt';

/** An outcome: an MQTT 5 reason code to acknowledge with, or NO_ACK to let the broker redeliver. */
export const NO_ACK = -1;

interface Held {
  messageId: number;
  gen: number;
  topic: string;
  payload: Buffer;
  code: number | undefined;
  outcome: Promise<number>;
}

type SendPacket = (packet: { cmd: string; messageId?: number; reasonCode?: number }, cb?: (err?: Error) => void, ...rest: unknown[]) => void;

export class PubackHolder {
  readonly supported: boolean;
  private readonly send: SendPacket | null = null;
  private gen = 0;
  /** held PUBACKs in arrival order, from `head` on (a moving head: shift() is O(n) on long queues) */
  private queue: Held[] = [];
  private head = 0;
  /** messageId -> entry of the current connection whose PUBACK is not sent yet */
  private readonly current = new Map<number, Held>();
  /** entries owed by earlier connections, kept to recognise the broker's redelivery */
  private previous = new Map<number, Held>();
  private drainWaiters: (() => void)[] = [];

  constructor(private readonly client: MqttClient) {
    const c = client as unknown as { _sendPacket?: SendPacket };
    this.supported = typeof c._sendPacket === 'function';
    if (!this.supported) return;
    const original = c._sendPacket!.bind(client);
    this.send = original;
    c._sendPacket = (packet, cb, ...rest) => {
      if (packet.cmd === 'puback' && packet.messageId !== undefined && this.current.has(packet.messageId)) {
        cb?.(); // mqtt.js may read the next packet; the real PUBACK goes out in flush()
        return;
      }
      original(packet, cb, ...rest);
    };
  }

  /** A new broker connection: PUBACKs owed by the old one will not be sent. */
  newConnection(): void {
    this.gen++;
    const previous = new Map<number, Held>();
    for (const h of this.current.values()) previous.set(h.messageId, h);
    this.previous = previous;
    this.current.clear();
    this.queue = [];
    this.head = 0;
    this.wakeDrainWaiters();
  }

  /** Hold the PUBACK of a message until `outcome` settles. Call before answering customHandleAcks. */
  hold(messageId: number, topic: string, payload: Buffer, outcome: Promise<number>): void {
    const h: Held = { messageId, gen: this.gen, topic, payload, code: undefined, outcome };
    this.queue.push(h);
    this.current.set(messageId, h);
    outcome.then(
      (code) => {
        h.code = code;
        this.flush();
      },
      () => {
        h.code = NO_ACK;
        this.flush();
      },
    );
  }

  /**
   * The outcome of a message this server already took in on an earlier connection, when the broker
   * redelivers it (same packet id, topic and payload): acknowledge it without applying it again.
   */
  redelivered(messageId: number, topic: string, payload: Buffer): Promise<number> | undefined {
    const h = this.previous.get(messageId);
    if (!h || h.topic !== topic || !h.payload.equals(payload)) return undefined;
    this.previous.delete(messageId);
    return h.outcome;
  }

  /** Resolves once every held PUBACK of the current connection was sent (or can no longer be). */
  drained(): Promise<void> {
    if (this.head >= this.queue.length) return Promise.resolve();
    return new Promise((r) => this.drainWaiters.push(r));
  }

  private flush(): void {
    const q = this.queue;
    while (this.head < q.length && q[this.head]!.code !== undefined) {
      const h = q[this.head]!;
      q[this.head++] = undefined as unknown as Held;
      this.current.delete(h.messageId);
      if (h.code !== NO_ACK && h.gen === this.gen && this.client.connected) {
        this.send!({ cmd: 'puback', messageId: h.messageId, reasonCode: h.code });
      }
    }
    if (this.head >= q.length) {
      this.queue = [];
      this.head = 0;
      this.wakeDrainWaiters();
    } else if (this.head > 4_096) {
      this.queue = q.slice(this.head);
      this.head = 0;
    }
  }

  private wakeDrainWaiters(): void {
    const w = this.drainWaiters;
    this.drainWaiters = [];
    for (const r of w) r();
  }
}
