/** Field resolvers of object types whose server shape differs from the SDL (Twin, Alert). */
import { latLngToCell } from 'h3-js';
import { HextwinError } from '@hextwin/shared';
import type { AlertResolvers, TwinResolvers } from '@hextwin/shared/generated/graphql';
import type { GqlContext } from '../context.js';
import { checkResolution } from '../../../index/aggregate.js';

const MAX_TWIN_ALERTS = 100;
const MAX_HISTORY = 1_000;

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
  history: (t, { limit }, { app }) => {
    const n = limit ?? 50;
    if (!Number.isInteger(n) || n < 0 || n > MAX_HISTORY) throw new HextwinError('BAD_REQUEST', `limit must be a whole number from 0 to ${MAX_HISTORY}`);
    return app.engine.twinHistory?.(t.model, t.id, n) ?? [];
  },
};

export const Alert: AlertResolvers<GqlContext> = {
  at: (a) => a.at,
  data: (a) => a.data ?? null,
  twin: (a, _args, { app }) => app.engine.twin(a.model, a.twinId) ?? null,
  // records stored before the alarm lifecycle read as an active untyped alarm raised once
  type: (a) => a.type ?? null,
  status: (a) => a.status ?? 'ACTIVE',
  count: (a) => a.count ?? 1,
  firstAt: (a) => a.firstAt ?? a.at,
  lastAt: (a) => a.lastAt ?? a.at,
  clearedAt: (a) => a.clearedAt ?? null,
  assignee: (a) => a.assignee ?? null,
  comment: (a) => a.comments?.[a.comments.length - 1]?.text ?? null,
  comments: (a) => a.comments ?? [],
  change: (a) => a.change ?? 'RAISE',
};
