/** Subscription resolvers: live alerts, continuous twin queries, and pushed aggregates. */
import { HextwinError } from '@hextwin/shared';
import type { SubscriptionResolvers } from '@hextwin/shared/generated/graphql';
import type { GqlContext } from '../context.js';
import { AlertFeed } from '../alert-feed.js';
import { AggregateFeed, checkEveryMs } from '../aggregate-feed.js';

export const Subscription: SubscriptionResolvers<GqlContext> = {
  alerts: {
    subscribe: (_p, { model, minSeverity }, { app, subscriptions }) => {
      if (model !== null && model !== undefined && !app.engine.hasModel(model))
        throw new HextwinError('UNKNOWN_MODEL', `no model named ${JSON.stringify(model)}`);
      const reg = subscriptions.add('alerts');
      const feed = new AlertFeed(app.engine, { model, minSeverity }, reg.untrack);
      reg.track(feed);
      return feed;
    },
    resolve: (a: unknown) => a as never,
  },

  twinChanges: {
    subscribe: (_p, { model, where, throttleMs }, { index, subscriptions }) => {
      const reg = subscriptions.add('twinChanges');
      const feed = index.watch(model, where, throttleMs ?? 100, reg.untrack);
      reg.track(feed);
      return feed;
    },
    resolve: (e: unknown) => e as never,
  },

  aggregate: {
    subscribe: (_p, { model, where, groupBy, metrics, everyMs }, { index, subscriptions }) => {
      checkEveryMs(everyMs);
      const handle = index.liveAggregate(model, { kind: 'group', where, groupBy, metrics });
      const reg = subscriptions.add('aggregate');
      const feed = new AggregateFeed(handle, () => handle.aggregate.groupsSnapshot(), everyMs, reg.untrack);
      reg.track(feed);
      return feed;
    },
    resolve: (g: unknown) => g as never,
  },

  hexAggregate: {
    subscribe: (_p, { model, resolution, where, metrics, everyMs }, { index, subscriptions }) => {
      checkEveryMs(everyMs);
      const handle = index.liveAggregate(model, { kind: 'hex', resolution, where, metrics });
      const reg = subscriptions.add('hexAggregate');
      const feed = new AggregateFeed(handle, () => handle.aggregate.binsSnapshot(), everyMs, reg.untrack);
      reg.track(feed);
      return feed;
    },
    resolve: (b: unknown) => b as never,
  },
};
