/**
 * GraphQL over WebSocket (graphql-ws protocol) on /graphql, the same port and path as HTTP. The
 * API key comes in `connectionParams.authorization` (or the upgrade request's Authorization
 * header): unknown keys are closed with 4401, device keys with 4403. Every operation gets the same
 * validation, depth and cost limits and error masking as over HTTP.
 */
import { WebSocketServer } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import { CloseCode } from 'graphql-ws';
import { getOperationAST, GraphQLError, parse, validate, type DocumentNode, type GraphQLSchema } from 'graphql';
import { toCoded } from '@hextwin/shared';
import type { AppContext, UpgradeHandler } from '../../app/feature.js';
import type { Principal } from '../../auth/auth.js';
import type { GqlContext } from './context.js';
import { principalOf } from './http.js';
import { checkComplexity } from './complexity.js';
import { formatError, type ErrorSink } from './errors.js';

export interface GraphqlWs {
  upgrade: UpgradeHandler;
  connections(): number;
  dispose(): Promise<void>;
}

export function graphqlWs(ctx: AppContext, schema: GraphQLSchema, makeContext: (p: Principal) => GqlContext, sink: ErrorSink): GraphqlWs {
  const wss = new WebSocketServer({ noServer: true, maxPayload: ctx.config.maxBodyBytes });
  const server = useServer<Record<string, unknown> | undefined, { principal: Principal }>(
    {
      schema,
      onConnect: (c) => {
        const fromParams = c.connectionParams?.authorization ?? c.connectionParams?.Authorization;
        const raw = typeof fromParams === 'string' ? fromParams : c.extra.request.headers.authorization;
        try {
          c.extra.principal = principalOf(ctx, raw);
          return true;
        } catch (e) {
          const coded = toCoded(e);
          ctx.countError(coded.code);
          if (coded.code === 'UNAUTHENTICATED') c.extra.socket.close(CloseCode.Unauthorized, 'Unauthorized: a valid API key is required');
          else c.extra.socket.close(CloseCode.Forbidden, 'Forbidden: this key may not use GraphQL');
          return false;
        }
      },
      context: (c) => makeContext(c.extra.principal!),
      onSubscribe: (_c, _id, payload) => {
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
        const tooComplex = checkComplexity(schema, document, op, payload.variables ?? undefined);
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
