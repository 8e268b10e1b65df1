/**
 * GraphQL over WebSocket (graphql-ws protocol) on /graphql, the same port and path as HTTP. The
 * API key comes in `connectionParams.authorization` (or the upgrade request's Authorization
 * header): unknown keys are closed with 4401, device keys with 4403. Every operation gets the same
 * rate limit (shared with the key's HTTP requests), validation, depth and cost limits and error
 * masking as over HTTP; subscriptions are capped per connection and per key (subscription-registry.ts).
 */
import { WebSocketServer } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import { CloseCode } from 'graphql-ws';
import { getOperationAST, GraphQLError, parse, validate, type DocumentNode, type GraphQLSchema } from 'graphql';
import { toCoded, type HextwinError } from '@hextwin/shared';
import type { AppContext, UpgradeHandler } from '../../app/feature.js';
import type { Principal } from '../../auth/auth.js';
import type { GqlContext } from './context.js';
import { principalOf } from './http.js';
import { codedGraphQLError, formatError, type ErrorSink } from './errors.js';
import type { GraphqlGuard } from './guard.js';
import type { SubscriptionOwner } from './subscription-registry.js';

export interface GraphqlWs {
  upgrade: UpgradeHandler;
  connections(): number;
  dispose(): Promise<void>;
}

function rateError(e: HextwinError): GraphQLError {
  const err = codedGraphQLError('RATE_LIMITED', e.message);
  err.extensions.details = e.details;
  return err;
}

export function graphqlWs(
  ctx: AppContext,
  schema: GraphQLSchema,
  makeContext: (p: Principal, owner: SubscriptionOwner) => GqlContext,
  sink: ErrorSink,
  guard: GraphqlGuard,
): GraphqlWs {
  const wss = new WebSocketServer({ noServer: true, maxPayload: ctx.config.maxBodyBytes });
  const server = useServer<Record<string, unknown> | undefined, { principal: Principal; owner?: SubscriptionOwner }>(
    {
      schema,
      onConnect: (c) => {
        const fromParams = c.connectionParams?.authorization ?? c.connectionParams?.Authorization;
        const raw = typeof fromParams === 'string' ? fromParams : c.extra.request.headers.authorization;
        try {
          c.extra.principal = principalOf(ctx, raw);
          // one owner object per connection: subscriptions count against it and against its key
          c.extra.owner = { key: guard.rateKey(c.extra.principal, c.extra.request.socket.remoteAddress) };
          return true;
        } catch (e) {
          const coded = toCoded(e);
          ctx.countError(coded.code);
          if (coded.code === 'UNAUTHENTICATED') c.extra.socket.close(CloseCode.Unauthorized, 'Unauthorized: a valid API key is required');
          else c.extra.socket.close(CloseCode.Forbidden, 'Forbidden: this key may not use GraphQL');
          return false;
        }
      },
      context: (c) => makeContext(c.extra.principal!, c.extra.owner!),
      onSubscribe: (c, _id, payload) => {
        const limited = guard.takeRate(c.extra.owner!.key);
        if (limited) return [rateError(limited)];
        let document: DocumentNode;
        try {
          document = parse(payload.query);
        } catch (e) {
          return [e instanceof GraphQLError ? e : new GraphQLError(String(e))];
        }
        const errors = validate(schema, document);
        if (errors.length) return errors;
        const op = getOperationAST(document, payload.operationName);
        if (!op) return [new GraphQLError('Unable to identify the operation to run; name it with operationName.')];
        const tooComplex = guard.checkOperation(schema, document, op, payload.variables ?? undefined);
        if (tooComplex) return [tooComplex];
        return { schema, document, operationName: payload.operationName, variableValues: payload.variables };
      },
      onNext: (_c, _id, _p, _args, result) => (result.errors?.length ? { ...result, errors: result.errors.map((e) => formatError(e, sink)) } : undefined),
      onError: (_c, _id, _p, errors) => errors.map((e) => formatError(e, sink)),
    },
    wss,
  );
  return {
    upgrade: (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req)),
    connections: () => wss.clients.size,
    dispose: async () => {
      await server.dispose();
    },
  };
}
