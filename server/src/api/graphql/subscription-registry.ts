/**
 * The live subscriptions of this server, by kind (for the metrics gauge, and to end them all at
 * shutdown), by graphql-ws connection and by API key: a new subscription over
 * GRAPHQL_MAX_SUBSCRIPTIONS_PER_CONNECTION on its connection, or over
 * GRAPHQL_MAX_SUBSCRIPTIONS_PER_KEY across the key's connections, is refused with
 * TOO_MANY_SUBSCRIPTIONS. A subscription holds its place until its feed closes.
 */
import { HextwinError } from '@hextwin/shared';

export const SubscriptionKinds = ['alerts', 'twinChanges', 'aggregate', 'hexAggregate', 'geofenceEvents'] as const;
export type SubscriptionKind = (typeof SubscriptionKinds)[number];

interface Closable {
  close(): void;
}

/** Who subscribes: one object per graphql-ws connection, and the rate/subscription key of its caller. */
export interface SubscriptionOwner {
  readonly key: string;
}

export interface SubscriptionLimits {
  perConnection: number;
  perKey: number;
}

interface Entry {
  kind: SubscriptionKind;
  owner: SubscriptionOwner | undefined;
}

export class Subscriptions {
  private readonly live = new Map<Closable, Entry>();
  private readonly byOwner = new Map<SubscriptionOwner, number>();
  private readonly byKey = new Map<string, number>();

  constructor(
    private readonly limits: SubscriptionLimits = { perConnection: Infinity, perKey: Infinity },
    private readonly onRefused: (limit: 'subscriptions_per_connection' | 'subscriptions_per_key') => void = () => {},
  ) {}

  /**
   * Open a feed of `kind` for `owner`: refuses with TOO_MANY_SUBSCRIPTIONS over a cap, else calls
   * `open` with the callback the feed calls when it closes, and tracks the feed it returns.
   */
  open<F extends Closable>(kind: SubscriptionKind, owner: SubscriptionOwner | undefined, open: (untrack: () => void) => F): F {
    if (owner) {
      if ((this.byOwner.get(owner) ?? 0) >= this.limits.perConnection) {
        this.onRefused('subscriptions_per_connection');
        throw new HextwinError('TOO_MANY_SUBSCRIPTIONS', `at most ${this.limits.perConnection} live subscriptions on one connection`);
      }
      if ((this.byKey.get(owner.key) ?? 0) >= this.limits.perKey) {
        this.onRefused('subscriptions_per_key');
        throw new HextwinError('TOO_MANY_SUBSCRIPTIONS', `at most ${this.limits.perKey} live subscriptions for one API key`);
      }
    }
    let feed: F | undefined;
    let closed = false;
    const untrack = () => {
      if (closed) return;
      closed = true;
      if (feed) this.release(feed);
    };
    feed = open(untrack);
    if (!closed) this.track(feed, { kind, owner });
    return feed;
  }

  count(kind: SubscriptionKind): number {
    let n = 0;
    for (const e of this.live.values()) if (e.kind === kind) n++;
    return n;
  }

  closeAll(): void {
    for (const f of [...this.live.keys()]) f.close();
    this.live.clear();
    this.byOwner.clear();
    this.byKey.clear();
  }

  private track(feed: Closable, e: Entry): void {
    this.live.set(feed, e);
    if (!e.owner) return;
    this.byOwner.set(e.owner, (this.byOwner.get(e.owner) ?? 0) + 1);
    this.byKey.set(e.owner.key, (this.byKey.get(e.owner.key) ?? 0) + 1);
  }

  private release(feed: Closable): void {
    const e = this.live.get(feed);
    if (!e) return;
    this.live.delete(feed);
    if (!e.owner) return;
    const n = this.byOwner.get(e.owner)! - 1;
    if (n > 0) this.byOwner.set(e.owner, n);
    else this.byOwner.delete(e.owner);
    const k = this.byKey.get(e.owner.key)! - 1;
    if (k > 0) this.byKey.set(e.owner.key, k);
    else this.byKey.delete(e.owner.key);
  }
}
