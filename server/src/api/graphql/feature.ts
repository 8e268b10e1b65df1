/**
 * The GraphQL API feature: /graphql over HTTP (Apollo Server) and WebSocket (graphql-ws), backed
 * by the index and analytics layer. The schema includes typed APIs generated from the models'
 * state schemas, so it is built once the engine has loaded its models; until then /graphql answers
 * NOT_READY and /readyz waits for it.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled, ApolloServerPluginUsageReportingDisabled } from '@apollo/server/plugin/disabled';
import { Counter, Gauge } from 'prom-client';
import { HextwinError } from '@hextwin/shared';
import type { AppContext, Feature, HttpHandler, UpgradeHandler } from '../../app/feature.js';
import { AggregateFeedback, TwinIndex } from '../../index/index.js';
import type { GqlContext } from './context.js';
import { buildSchema } from './schema.js';
import { formatError, type ErrorSink } from './errors.js';
import { GraphqlGuard } from './guard.js';
import { graphqlHttpHandler, sendGraphQLError } from './http.js';
import { graphqlWs, type GraphqlWs } from './ws.js';
import { StatusSampler } from './status.js';
import { Subscriptions, SubscriptionKinds } from './subscription-registry.js';

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../../../../package.json', import.meta.url)), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

interface Running {
  http: HttpHandler;
  ws: GraphqlWs;
  apollo: ApolloServer<GqlContext>;
}

async function startGraphql(ctx: AppContext, index: TwinIndex, status: StatusSampler, subscriptions: Subscriptions, guard: GraphqlGuard): Promise<Running> {
  const sink: ErrorSink = { logger: ctx.logger, countError: ctx.countError };
  const { schema, weights } = buildSchema(ctx.engine.models(), ctx.logger, ctx.config.maxBodyBytes);
  guard.setWeights(weights);
  const makeContext = (principal: GqlContext['principal'], owner?: GqlContext['owner']): GqlContext => ({
    principal,
    app: ctx,
    index,
    status,
    subscriptions,
    owner,
    maxGroups: ctx.config.graphql.maxGroups,
  });
  const ws = graphqlWs(ctx, schema, makeContext, sink, guard);
  const limits: ApolloServerPlugin<GqlContext> = {
    async requestDidStart() {
      return {
        async didResolveOperation(rc) {
          const err = rc.operation && guard.checkOperation(rc.schema, rc.document, rc.operation, rc.request.variables);
          if (err) throw err;
        },
      };
    },
  };
  const drain: ApolloServerPlugin<GqlContext> = {
    async serverWillStart() {
      return {
        async drainServer() {
          subscriptions.closeAll();
          await ws.dispose();
        },
      };
    },
  };
  const apollo = new ApolloServer<GqlContext>({
    schema,
    formatError: (formatted, error) => formatError(error, sink, formatted),
    introspection: true,
    includeStacktraceInErrorResponses: false,
    persistedQueries: false,
    // main.ts owns the signals and stops every feature in order
    stopOnTerminationSignals: false,
    plugins: [ApolloServerPluginLandingPageDisabled(), ApolloServerPluginUsageReportingDisabled(), limits, drain],
  });
  await apollo.start();
  return { http: graphqlHttpHandler(ctx, apollo, makeContext, guard), ws, apollo };
}

/** The models' declared aggregates (ctx.aggregate), kept by this index on the engine clock. */
function startFeedback(ctx: AppContext, index: TwinIndex): AggregateFeedback | null {
  const models = ctx.engine.models();
  const { wakeAt, setAggregateSource } = ctx.engine;
  if (!AggregateFeedback.wanted(models) || !wakeAt || !setAggregateSource) return null;
  const feedback = new AggregateFeedback(index, models, { now: () => ctx.engine.now(), wakeAt: (at, fn) => wakeAt.call(ctx.engine, at, fn) });
  setAggregateSource.call(ctx.engine, feedback);
  return feedback;
}

export const graphqlFeature: Feature = {
  name: 'graphql',
  async start(ctx) {
    const limits = ctx.config.graphql;
    const index = new TwinIndex(ctx.engine, limits.maxGroups);
    let feedback: AggregateFeedback | null = null;
    const status = new StatusSampler(ctx, version());
    const guard = new GraphqlGuard(ctx);
    const subscriptions = new Subscriptions({ perConnection: limits.maxSubscriptionsPerConnection, perKey: limits.maxSubscriptionsPerKey }, (l) =>
      guard.count(l),
    );
    let running: Running | null = null;
    let failed: Error | null = null;
    new Gauge({
      name: 'hextwin_graphql_subscriptions',
      help: 'Live GraphQL subscriptions by kind',
      labelNames: ['kind'],
      registers: [ctx.metrics],
      collect() {
        for (const k of SubscriptionKinds) this.set({ kind: k }, subscriptions.count(k));
      },
    });
    new Gauge({
      name: 'hextwin_graphql_pending_changes',
      help: 'Twin changes waiting for twinChanges subscribers (bounded by twin counts, whatever the subscribers read)',
      registers: [ctx.metrics],
      collect() {
        this.set(index.pendingChanges());
      },
    });
    let notified = 0;
    new Counter({
      name: 'hextwin_graphql_change_notifications_total',
      help: 'Calls of live queries (twinChanges, maintained aggregates) on twin changes: dispatched by model, and by cell for location-filtered ones',
      registers: [ctx.metrics],
      collect() {
        const n = index.notifications();
        this.inc(Math.max(0, n - notified));
        notified = n;
      },
    });
    new Gauge({
      name: 'hextwin_graphql_live_aggregates',
      help: 'Aggregates maintained incrementally for subscriptions',
      registers: [ctx.metrics],
      collect() {
        this.set(index.liveAggregates);
      },
    });
    new Gauge({
      name: 'hextwin_graphql_ws_connections',
      help: 'Open graphql-ws connections',
      registers: [ctx.metrics],
      collect() {
        this.set(running?.ws.connections() ?? 0);
      },
    });
    ctx.readyCheck('graphql', () => (failed ? `GraphQL failed to start: ${failed.message}` : running ? null : 'starting the GraphQL API'));
    ctx.route('/graphql', (req, res) => {
      if (running) return running.http(req, res);
      sendGraphQLError(res, new HextwinError('NOT_READY'), ctx.countError);
    });
    const upgrade: UpgradeHandler = (req, socket, head) => {
      if (running) return running.ws.upgrade(req, socket, head);
      socket.end('HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    };
    ctx.upgrade('/graphql', upgrade);
    let starting: Promise<void> | null = null;
    const boot = () =>
      (starting ??= Promise.resolve()
        .then(() => {
          // the models are known once the engine is ready
          feedback = startFeedback(ctx, index);
          return startGraphql(ctx, index, status, subscriptions, guard);
        })
        .then(
          (r) => {
            running = r;
          },
          (e: Error) => {
            failed = e;
            ctx.logger.error({ err: e }, 'GraphQL API failed to start');
          },
        ));
    // the schema needs the loaded models: build it once the engine is ready
    if (ctx.engine.ready) await boot();
    const off = ctx.engine.on('ready', () => void boot());
    return {
      async stop() {
        off();
        await starting;
        if (running) await running.apollo.stop();
        subscriptions.closeAll();
        status.stop();
        feedback?.close();
        index.close();
      },
    };
  },
};
