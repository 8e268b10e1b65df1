/**
 * Acknowledged JetStream publishes at high rates: each publish is a core NATS publish with a reply
 * subject under one inbox of ours, and its PubAck is matched by token. The client library's
 * request path costs a timer and an Error object per publish (its cancellation path builds one
 * even on success); at thousands of publishes a second that is a good part of a core. Timeouts are
 * checked by one sweep instead of a timer each.
 */
import { createInbox, headers, nuid, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { HextwinError } from '@hextwin/shared';

export interface PubAck {
  stream: string;
  seq: number;
  duplicate: boolean;
}

export interface PublishOptions {
  /** JetStream drops a message whose id it saw within the stream's duplicate window */
  msgID?: string;
  /** refuse unless the subject's last sequence is this (0: the subject is empty) */
  expectLastSubjectSequence?: number;
  timeoutMs?: number;
}

/** JetStream refused the publish (as opposed to: no answer). */
export class JetStreamRefusal extends Error {
  override readonly name = 'JetStreamRefusal';
  constructor(
    readonly errCode: number,
    description: string,
  ) {
    super(description);
  }
  /** the subject's last sequence was not the one expected: another writer went first */
  get wrongLastSequence(): boolean {
    return this.errCode === 10071;
  }
}

interface Pending {
  resolve(a: PubAck): void;
  reject(e: Error): void;
  deadline: number;
}

export class JsPublisher {
  private readonly inbox = createInbox();
  private readonly pending = new Map<string, Pending>();
  private readonly sub: Subscription;
  private readonly sweep: NodeJS.Timeout;

  constructor(private readonly nc: NatsConnection) {
    this.sub = nc.subscribe(`${this.inbox}.*`, { callback: (err, msg) => void (err || this.onAck(msg)) });
    this.sweep = setInterval(() => {
      const now = Date.now();
      for (const [token, p] of this.pending) {
        if (p.deadline > now) continue;
        this.pending.delete(token);
        p.reject(new HextwinError('CLUSTER_UNAVAILABLE', 'JetStream did not acknowledge in time'));
      }
    }, 100);
    this.sweep.unref();
  }

  private onAck(msg: Msg): void {
    const p = this.pending.get(msg.subject.slice(this.inbox.length + 1));
    if (!p) return;
    this.pending.delete(msg.subject.slice(this.inbox.length + 1));
    if (msg.headers?.code === 503) return p.reject(new HextwinError('CLUSTER_UNAVAILABLE', 'JetStream is not available (no responders)'));
    let body: { stream?: string; seq?: number; duplicate?: boolean; error?: { err_code?: number; code?: number; description?: string } };
    try {
      body = JSON.parse(new TextDecoder().decode(msg.data));
    } catch {
      return p.reject(new HextwinError('CLUSTER_UNAVAILABLE', 'JetStream answered with something that is not an acknowledgement'));
    }
    if (body.error) return p.reject(new JetStreamRefusal(body.error.err_code ?? body.error.code ?? 0, body.error.description ?? 'refused'));
    p.resolve({ stream: body.stream ?? '', seq: body.seq ?? 0, duplicate: body.duplicate ?? false });
  }

  publish(subject: string, data: Uint8Array, opts: PublishOptions = {}): Promise<PubAck> {
    return new Promise((resolve, reject) => {
      if (this.nc.isClosed()) return reject(new HextwinError('CLUSTER_UNAVAILABLE', 'NATS connection is closed'));
      const token = nuid.next();
      this.pending.set(token, { resolve, reject, deadline: Date.now() + (opts.timeoutMs ?? 5_000) });
      let h;
      if (opts.msgID !== undefined || opts.expectLastSubjectSequence !== undefined) {
        h = headers();
        if (opts.msgID !== undefined) h.set('Nats-Msg-Id', opts.msgID);
        if (opts.expectLastSubjectSequence !== undefined) h.set('Nats-Expected-Last-Subject-Sequence', String(opts.expectLastSubjectSequence));
      }
      try {
        this.nc.publish(subject, data, { reply: `${this.inbox}.${token}`, ...(h ? { headers: h } : {}) });
      } catch (e) {
        this.pending.delete(token);
        reject(new HextwinError('CLUSTER_UNAVAILABLE', `publishing failed: ${(e as Error).message}`, { cause: e }));
      }
    });
  }

  close(): void {
    clearInterval(this.sweep);
    this.sub.unsubscribe();
    for (const p of this.pending.values()) p.reject(new HextwinError('CLUSTER_UNAVAILABLE', 'publisher closed'));
    this.pending.clear();
  }
}
