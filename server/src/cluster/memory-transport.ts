/**
 * An in-process Transport: every transport attached to one MemoryBus sees the others, as cluster
 * nodes on one NATS server would. Delivery is asynchronous and in order, like the network.
 */
import { HextwinError, toCoded } from '@hextwin/shared';
import { subjectMatches, type RequestHandler, type Subscription, type Transport } from './transport.js';

interface BusSub {
  owner: MemoryTransport;
  pattern: string;
  handler?: (data: Uint8Array, subject: string) => void;
  serve?: RequestHandler;
  queue?: string;
  live: boolean;
}

/** The shared medium of in-process transports. */
export class MemoryBus {
  readonly subs: BusSub[] = [];
  private queue: (() => void)[] = [];
  private scheduled = false;
  private rr = 0;

  /** Run `fn` after everything queued before it, on a later turn. */
  post(fn: () => void): void {
    this.queue.push(fn);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.run);
    }
  }

  private readonly run = (): void => {
    this.scheduled = false;
    const q = this.queue;
    this.queue = [];
    for (const fn of q) fn();
  };

  /** Responders for a request: all of them, or one per queue group. */
  responders(subject: string): BusSub[] {
    const all = this.subs.filter((s) => s.live && s.serve && subjectMatches(s.pattern, subject));
    const out: BusSub[] = [];
    const groups = new Map<string, BusSub[]>();
    for (const s of all) {
      if (!s.queue) out.push(s);
      else {
        let g = groups.get(s.queue);
        if (!g) groups.set(s.queue, (g = []));
        g.push(s);
      }
    }
    for (const g of groups.values()) out.push(g[this.rr++ % g.length]!);
    return out;
  }
}

export class MemoryTransport implements Transport {
  readonly kind = 'memory';
  private closed = false;

  constructor(private readonly bus: MemoryBus) {}

  private check(): void {
    if (this.closed) throw new HextwinError('CLUSTER_UNAVAILABLE', 'transport is closed');
  }

  publish(subject: string, data: Uint8Array): void {
    this.check();
    const copy = data.slice();
    this.bus.post(() => {
      for (const s of this.bus.subs) if (s.live && s.handler && subjectMatches(s.pattern, subject)) s.handler(copy, subject);
    });
  }

  private add(sub: BusSub): Subscription {
    this.check();
    this.bus.subs.push(sub);
    return {
      unsubscribe: () => {
        sub.live = false;
        const i = this.bus.subs.indexOf(sub);
        if (i >= 0) this.bus.subs.splice(i, 1);
      },
    };
  }

  subscribe(subject: string, handler: (data: Uint8Array, subject: string) => void): Subscription {
    return this.add({ owner: this, pattern: subject, handler, live: true });
  }

  serve(subject: string, handler: RequestHandler, opts?: { queue?: string }): Subscription {
    return this.add({ owner: this, pattern: subject, serve: handler, queue: opts?.queue, live: true });
  }

  private ask(sub: BusSub, data: Uint8Array): Promise<Uint8Array[]> {
    const copy = data.slice();
    return new Promise((resolve, reject) =>
      this.bus.post(() => {
        Promise.resolve()
          .then(() => sub.serve!(copy))
          .then(
            (chunks) => resolve(chunks.map((c) => c.slice())),
            (e) => reject(toCoded(e)),
          );
      }),
    );
  }

  async request(subject: string, data: Uint8Array, opts?: { timeoutMs?: number }): Promise<Uint8Array[]> {
    this.check();
    const [sub] = this.bus.responders(subject);
    if (!sub) throw new HextwinError('CLUSTER_UNAVAILABLE', `nobody answers ${subject}`, { details: { reason: 'no-responders' } });
    const ms = opts?.timeoutMs ?? 5_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new HextwinError('CLUSTER_UNAVAILABLE', `no answer on ${subject} within ${ms} ms`, { details: { reason: 'timeout' } })),
        ms,
      );
    });
    try {
      return await Promise.race([this.ask(sub, data), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async gather(subject: string, data: Uint8Array, opts: { timeoutMs: number; expect?: number }): Promise<Uint8Array[][]> {
    this.check();
    const subs = this.bus.responders(subject);
    const out: Uint8Array[][] = [];
    if (!subs.length) return out;
    await new Promise<void>((resolve) => {
      let pending = subs.length;
      const timer = setTimeout(resolve, opts.timeoutMs);
      const done = () => {
        if (--pending === 0 || (opts.expect !== undefined && out.length >= opts.expect)) {
          clearTimeout(timer);
          resolve();
        }
      };
      for (const s of subs) this.ask(s, data).then((r) => (out.push(r), done()), done);
    });
    return out.slice();
  }

  flush(): Promise<void> {
    return new Promise((r) => this.bus.post(r));
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const s of [...this.bus.subs]) {
      if (s.owner !== this) continue;
      s.live = false;
      this.bus.subs.splice(this.bus.subs.indexOf(s), 1);
    }
  }
}
