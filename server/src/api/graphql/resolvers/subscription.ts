/** Subscription resolvers: live alerts, continuous twin queries, and pushed aggregates. */
import { HextwinError } from '@hextwin/shared';
import type { SubscriptionResolvers } from '@hextwin/shared/generated/graphql';
import type { GqlContext } from '../context.js';
import { AlertFeed } from '../alert-feed.js';
import { AggregateFeed, checkEveryMs } from '../aggregate-feed.js';

export const Subscription: SubscriptionResolvers<GqlContext> = {
  alerts: {
    subscribe: (_p, { model, minSeverity }, { app, subscriptions, owner }) => {
      if (model !== null && model !== undefined && !app.engine.hasModel(model))
        throw new HextwinError('UNKNOWN_MODEL', `no model named ${JSON.stringify(model)}`);
      return subscriptions.open('alerts', owner, (untrack) => new AlertFeed(app.engine, { model, minSeverity }, untrack));
    },
    resolve: (a: unknown) => a as never,
  },

  twinChanges: {
    subscribe: (_p, { model, where, throttleMs }, { index, subscriptions, owner }) =>
      subscriptions.open('twinChanges', owner, (untrack) => index.watch(model, where, throttleMs ?? 100, untrack)),
    resolve: (e: unknown) => e as never,
  },

  aggregate: {
    subscribe: (_p, { model, where, groupBy, metrics, everyMs }, { index, subscriptions, owner, maxGroups }) => {
      checkEveryMs(everyMs);
      return subscriptions.open('aggregate', owner, (untrack) => {
        const handle = index.liveAggregate(model, { kind: 'group', where, groupBy, metrics });
        return new AggregateFeed(handle, () => handle.aggregate.groupsSnapshot(), everyMs, maxGroups, untrack);
      });
    },
    resolve: (g: unknown) => g as never,
  },

  hexAggregate: {
    subscribe: (_p, { model, resolution, where, metrics, everyMs }, { index, subscriptions, owner, maxGroups }) => {
      checkEveryMs(everyMs);
      return subscriptions.open('hexAggregate', owner, (untrack) => {
        const handle = index.liveAggregate(model, { kind: 'hex', resolution, where, metrics });
        return new AggregateFeed(handle, () => handle.aggregate.binsSnapshot(), everyMs, maxGroups, untrack);
      });
    },
    resolve: (b: unknown) => b as never,
  },
};
