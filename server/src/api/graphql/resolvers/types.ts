/** Field resolvers of object types whose server shape differs from the SDL (Twin, Alert). */
import { latLngToCell } from 'h3-js';
import type { AlertResolvers, TwinResolvers } from '@hextwin/shared/generated/graphql';
import type { GqlContext } from '../context.js';
import { checkResolution } from '../../../index/aggregate.js';

const MAX_TWIN_ALERTS = 100;

export const Twin: TwinResolvers<GqlContext> = {
  state: (t) => t.state ?? {},
  lat: (t) => t.lat ?? null,
  lng: (t) => t.lng ?? null,
  alerts: (t, { limit }, { app }) => app.engine.twinAlerts(t.model, t.id, Math.max(0, Math.min(limit ?? 20, MAX_TWIN_ALERTS))),
  updatedAt: (t) => t.updatedAt,
  createdAt: (t) => t.createdAt,
  lastError: (t) => t.lastError,
  pendingCommands: (t, _a, { app }) => app.engine.pendingCommands(t.model, t.id).map((c) => c.command),
  cell: (t, { resolution }) => {
    checkResolution(resolution);
    return t.lat === undefined || t.lng === undefined ? null : latLngToCell(t.lat, t.lng, resolution);
  },
  level: (t, _a, { index }) => index.levelOf(t),
};

export const Alert: AlertResolvers<GqlContext> = {
  at: (a) => a.at,
  data: (a) => a.data ?? null,
  twin: (a, _args, { app }) => app.engine.twin(a.model, a.twinId) ?? null,
};
