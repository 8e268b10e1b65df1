/** The live subscriptions of this server, by kind: for the metrics gauge, and to end them all at shutdown. */
export const SubscriptionKinds = ['alerts', 'twinChanges', 'aggregate', 'hexAggregate'] as const;
export type SubscriptionKind = (typeof SubscriptionKinds)[number];

interface Closable {
  close(): void;
}

export class Subscriptions {
  private readonly live = new Map<Closable, SubscriptionKind>();

  /** Track a feed; returns the callback the feed calls when it closes. */
  add(kind: SubscriptionKind): { track(feed: Closable): void; untrack: () => void } {
    let feed: Closable | undefined;
    return {
      track: (f) => {
        feed = f;
        this.live.set(f, kind);
      },
      untrack: () => {
        if (feed) this.live.delete(feed);
      },
    };
  }

  count(kind: SubscriptionKind): number {
    let n = 0;
    for (const k of this.live.values()) if (k === kind) n++;
    return n;
  }

  closeAll(): void {
    for (const f of [...this.live.keys()]) f.close();
    this.live.clear();
  }
}
