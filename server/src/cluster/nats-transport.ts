/**
 * The Transport over core NATS. Requests carry a reply subject under this transport's own inbox;
 * each responder answers with one or more chunks (header `hx-n` = chunk number, `hx-last` on the
 * final one, `hx-r` = responder id) or with an error (`hx-err` = JSON {code, message}).
 */
import { createInbox, headers, nuid, type Msg, type NatsConnection, type Subscription as NatsSub } from '@nats-io/transport-node';
import { ErrorCodes, HextwinError, toCoded, type ErrorCode } from '@hextwin/shared';
import type { RequestHandler, Subscription, Transport } from './transport.js';

interface Pending {
  /** chunks by responder id */
  replies: Map<string, Uint8Array[]>;
  finished: Uint8Array[][];
  failed: number;
  onChunk: () => void;
  onNoResponders: () => void;
  onError: (e: HextwinError) => void;
}

const EMPTY = new Uint8Array(0);

function remoteError(raw: string): HextwinError {
  try {
    const { code, message } = JSON.parse(raw) as { code: string; message: string };
    return new HextwinError(code in ErrorCodes ? (code as ErrorCode) : 'INTERNAL', message);
  } catch {
    return new HextwinError('INTERNAL', raw);
  }
}

export class NatsTransport implements Transport {
  readonly kind = 'nats';
  private readonly id = nuid.next();
  private readonly inbox = createInbox();
  private readonly pending = new Map<string, Pending>();
  private inboxSub: NatsSub | null = null;

  constructor(private readonly nc: NatsConnection) {
    this.inboxSub = nc.subscribe(`${this.inbox}.*`, { callback: (err, msg) => void (err || this.onReply(msg)) });
  }

  private onReply(msg: Msg): void {
    const token = msg.subject.slice(this.inbox.length + 1);
    const p = this.pending.get(token);
    if (!p) return;
    const h = msg.headers;
    if (h?.status === '503' || (h?.hasError && h.code === 503)) {
      p.onNoResponders();
      return;
    }
    const err = h?.get('hx-err');
    if (err) {
      p.failed++;
      p.onError(remoteError(err));
      return;
    }
    const rid = h?.get('hx-r') ?? '';
    let list = p.replies.get(rid);
    if (!list) p.replies.set(rid, (list = []));
    list.push(msg.data);
    if (h?.get('hx-last')) {
      p.replies.delete(rid);
      p.finished.push(list);
      p.onChunk();
    }
  }

  publish(subject: string, data: Uint8Array): void {
    this.nc.publish(subject, data);
  }

  subscribe(subject: string, handler: (data: Uint8Array, subject: string) => void): Subscription {
    const sub = this.nc.subscribe(subject, { callback: (err, msg) => void (err || handler(msg.data, msg.subject)) });
    return { unsubscribe: () => sub.unsubscribe() };
  }

  serve(subject: string, handler: RequestHandler, opts?: { queue?: string }): Subscription {
    const sub = this.nc.subscribe(subject, {
      ...(opts?.queue ? { queue: opts.queue } : {}),
      callback: (err, msg) => {
        if (err || !msg.reply) return;
        const reply = msg.reply;
        Promise.resolve()
          .then(() => handler(msg.data))
          .then(
            (chunks) => {
              const list = chunks.length ? chunks : [EMPTY];
              for (let i = 0; i < list.length; i++) {
                const h = headers();
                h.set('hx-r', this.id);
                h.set('hx-n', String(i));
                if (i === list.length - 1) h.set('hx-last', '1');
                this.nc.publish(reply, list[i]!, { headers: h });
              }
            },
            (e) => {
              const c = toCoded(e);
              const h = headers();
              h.set('hx-r', this.id);
              h.set('hx-err', JSON.stringify({ code: c.code, message: c.message }));
              if (!this.nc.isClosed()) this.nc.publish(reply, EMPTY, { headers: h });
            },
          );
      },
    });
    return { unsubscribe: () => sub.unsubscribe() };
  }

  request(subject: string, data: Uint8Array, opts?: { timeoutMs?: number }): Promise<Uint8Array[]> {
    const ms = opts?.timeoutMs ?? 5_000;
    return new Promise((resolve, reject) => {
      let token = '';
      const finish = (fn: () => void) => {
        clearTimeout(timer);
        this.pending.delete(token);
        fn();
      };
      const timer = setTimeout(
        () => finish(() => reject(new HextwinError('CLUSTER_UNAVAILABLE', `no answer on ${subject} within ${ms} ms`, { details: { reason: 'timeout' } }))),
        ms,
      );
      const p: Pending = {
        replies: new Map(),
        finished: [],
        failed: 0,
        onChunk: () => finish(() => resolve(p.finished[0]!)),
        onNoResponders: () =>
          finish(() => reject(new HextwinError('CLUSTER_UNAVAILABLE', `nobody answers ${subject}`, { details: { reason: 'no-responders' } }))),
        onError: (e) => finish(() => reject(e)),
      };
      try {
        token = nuid.next();
        this.pending.set(token, p);
        if (this.nc.isClosed()) throw new HextwinError('CLUSTER_UNAVAILABLE', 'NATS connection is closed');
        this.nc.publish(subject, data, { reply: `${this.inbox}.${token}` });
      } catch (e) {
        finish(() => reject(toCoded(e)));
      }
    });
  }

  gather(subject: string, data: Uint8Array, opts: { timeoutMs: number; expect?: number }): Promise<Uint8Array[][]> {
    return new Promise((resolve) => {
      let token = '';
      const finish = () => {
        clearTimeout(timer);
        this.pending.delete(token);
        resolve(p.finished.slice());
      };
      const timer = setTimeout(finish, opts.timeoutMs);
      const check = () => {
        if (opts.expect !== undefined && p.finished.length + p.failed >= opts.expect) finish();
      };
      const p: Pending = { replies: new Map(), finished: [], failed: 0, onChunk: check, onNoResponders: finish, onError: check };
      token = nuid.next();
      this.pending.set(token, p);
      if (this.nc.isClosed()) finish();
      else this.nc.publish(subject, data, { reply: `${this.inbox}.${token}` });
    });
  }

  async flush(): Promise<void> {
    if (!this.nc.isClosed()) await this.nc.flush();
  }

  async close(): Promise<void> {
    this.inboxSub?.unsubscribe();
    this.inboxSub = null;
  }
}
