/** GraphQL for geofences: list (readers), put and remove (operators and admins), events (subscription). */
import { HextwinError } from '@hextwin/shared';
import type { Geofence as GqlGeofence, GeofenceEvent as GqlGeofenceEvent, Resolvers } from '@hextwin/shared/generated/graphql';
import { requireMutate, type GqlContext } from '../api/graphql/context.js';
import { EventFeed } from '../api/graphql/event-feed.js';
import { drawable, type Fence } from './fence.js';
import type { Geofences } from './geofences.js';
import type { FenceEvent } from './tracker.js';

export const MAX_QUEUED_GEOFENCE_EVENTS = 10_000;

function geofencesOf(ctx: GqlContext): Geofences {
  if (!ctx.app.geofences) throw new HextwinError('NOT_FOUND', 'this server keeps no geofences');
  return ctx.app.geofences;
}

function checkModel(ctx: GqlContext, model: string | null | undefined): void {
  if (model != null && !ctx.app.engine.hasModel(model)) throw new HextwinError('UNKNOWN_MODEL', `no model named ${JSON.stringify(model)}`);
}

export const fenceOut = (f: Fence): GqlGeofence => ({
  name: f.name,
  model: f.model,
  shape: f.shape,
  geometry: drawable(f.shape),
  bbox: [...f.bbox],
  dwellMs: f.dwellMs,
  alarm: f.alarm,
  source: f.origin === 'file' ? 'FILE' : 'API',
  updatedAt: f.updatedAt,
});

const eventOut = (e: FenceEvent): GqlGeofenceEvent => ({
  kind: e.type,
  fence: e.fence.name,
  model: e.model,
  twinId: e.twinId,
  at: e.at,
  lat: e.lat,
  lng: e.lng,
  dwellMs: e.dwellMs ?? null,
});

export const geofenceResolvers: Resolvers<GqlContext> = {
  Query: {
    geofences: (_p, { model }, ctx) => {
      checkModel(ctx, model);
      return geofencesOf(ctx).list(model).map(fenceOut);
    },
  },
  Mutation: {
    putGeofence: async (_p, { input }, ctx) => {
      requireMutate(ctx);
      return fenceOut(await geofencesOf(ctx).put(input));
    },
    removeGeofence: async (_p, { name }, ctx) => {
      requireMutate(ctx);
      return geofencesOf(ctx).remove(name);
    },
  },
  Subscription: {
    geofenceEvents: {
      subscribe: (_p, { fence, model }, ctx) => {
        checkModel(ctx, model);
        const geofences = geofencesOf(ctx);
        return ctx.subscriptions.open(
          'geofenceEvents',
          ctx.owner,
          (untrack) =>
            new EventFeed<GqlGeofenceEvent>({
              attach: (push) =>
                geofences.on((e) => {
                  if ((fence == null || e.fence.name === fence) && (model == null || e.model === model)) push(eventOut(e));
                }),
              onClose: untrack,
              maxQueued: MAX_QUEUED_GEOFENCE_EVENTS,
              what: 'geofence events',
              catchUp: 'subscribe again (the twins inside each fence are Twin.geofences)',
            }),
        );
      },
      resolve: (e: unknown) => e as never,
    },
  },
  Twin: {
    geofences: (t, _a, ctx) => ctx.app.geofences?.tracker.fencesOf(t.model, t.id) ?? [],
  },
};
