/** Query resolvers: models, twins and their analytics, alerts, status, scenarios. */
import { HextwinError } from '@hextwin/shared';
import type { QueryResolvers } from '@hextwin/shared/generated/graphql';
import type { GqlContext } from '../context.js';
import { parseDateTime } from '../scalars.js';
import { simulationStatus } from './simulation.js';

const MAX_ALERTS = 1_000;

export const Query: QueryResolvers<GqlContext> = {
  models: (_p, _a, { app, index }) =>
    app.engine.models().map((m) => ({ name: m.name, description: m.description ?? null, twinCount: m.twinCount, fields: index.fields(m.name) })),

  twin: (_p, { model, id }, { app, index }) => {
    index.model(model); // UNKNOWN_MODEL for a model that does not exist, rather than null
    return app.engine.twin(model, id) ?? null;
  },

  twins: async (_p, { model, where, orderBy, first, after }, { index }) => {
    const page = await index.find(model, { where, orderBy, first, after });
    return { totalCount: page.totalCount, edges: page.edges, pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.endCursor } };
  },

  aggregate: (_p, { model, where, groupBy, metrics }, { index }) => index.aggregate(model, { where, groupBy, metrics }),

  hexAggregate: (_p, { model, resolution, where, metrics }, { index }) => index.hexAggregate(model, { resolution, where, metrics }),

  alerts: (_p, { model, twinId, minSeverity, since, acknowledged, first, status, type, severity }, { app }) => {
    const limit = first ?? 100;
    if (!Number.isInteger(limit) || limit < 0 || limit > MAX_ALERTS)
      throw new HextwinError('BAD_REQUEST', `first must be a whole number from 0 to ${MAX_ALERTS}`);
    if (model !== null && model !== undefined && !app.engine.hasModel(model))
      throw new HextwinError('UNKNOWN_MODEL', `no model named ${JSON.stringify(model)}`);
    return app.engine.alerts({
      model: model ?? undefined,
      twinId: twinId ?? undefined,
      minSeverity: minSeverity ?? undefined,
      since: since === null || since === undefined ? undefined : parseDateTime(since),
      acknowledged: acknowledged ?? undefined,
      status: status ?? undefined,
      type: type ?? undefined,
      severity: severity ?? undefined,
      limit,
    });
  },

  status: (_p, _a, { status }) => status.status(),

  scenarios: (_p, _a, { app }) => app.scenarios.list(),

  quarantined: (_p, _a, { app }) => app.engine.quarantined?.() ?? [],

  simulation: (_p, _a, { app }) => simulationStatus(app.simulation, app.engine.now()),
};
