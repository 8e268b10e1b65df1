/**
 * GraphQL over HTTP (POST and GET on /graphql): Apollo Server behind Express, with the API key
 * checked first, then the key's rate limit (GRAPHQL_RATE_LIMIT: 429 RATE_LIMITED with Retry-After),
 * a body size limit (MAX_BODY_BYTES), and coded errors for bodies that never reach GraphQL (too
 * large, not JSON). GET needs the `apollo-require-preflight` header (CSRF prevention).
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import type { ApolloServer } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import { HextwinError, toCoded } from '@hextwin/shared';
import type { ServerResponse } from 'node:http';
import type { AppContext, HttpHandler } from '../../app/feature.js';
import { bearer, type Principal } from '../../auth/auth.js';
import type { GqlContext } from './context.js';
import type { GraphqlGuard } from './guard.js';

/** A GraphQL-shaped error response for requests refused before execution. */
export function sendGraphQLError(res: ServerResponse, e: HextwinError, countError: (code: string) => void, headers: Record<string, string> = {}): void {
  countError(e.code);
  const body = JSON.stringify({ errors: [{ message: e.message, extensions: { code: e.code } }] });
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(e.status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

/** The principal of a request, or why not: unauthenticated, or a device key (devices may not use GraphQL). */
export function principalOf(ctx: AppContext, authorization: string | undefined): Principal {
  const principal = ctx.auth.authenticate(bearer(authorization) ?? (authorization?.trim() || undefined));
  if (!principal.canRead) throw new HextwinError('FORBIDDEN', `the key "${principal.name}" is a device key; devices may not use GraphQL`);
  return principal;
}

const BODY_ERRORS: Record<string, HextwinError['code']> = {
  'entity.too.large': 'PAYLOAD_TOO_LARGE',
  'entity.parse.failed': 'INVALID_JSON',
};

export function graphqlHttpHandler(
  ctx: AppContext,
  apollo: ApolloServer<GqlContext>,
  makeContext: (p: Principal) => GqlContext,
  guard: GraphqlGuard,
): HttpHandler {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.use((req: Request, res: Response, next: NextFunction) => {
    try {
      res.locals.principal = principalOf(ctx, req.headers.authorization);
    } catch (e) {
      const coded = toCoded(e);
      sendGraphQLError(res, coded, ctx.countError, coded.code === 'UNAUTHENTICATED' ? { 'www-authenticate': 'Bearer realm="hextwin"' } : {});
      return;
    }
    const limited = guard.takeRate(guard.rateKey(res.locals.principal as Principal, req.socket.remoteAddress));
    if (limited) {
      const ms = Number(limited.details?.retryAfterMs ?? 1000);
      sendGraphQLError(res, limited, ctx.countError, { 'retry-after': String(Math.max(1, Math.ceil(ms / 1000))) });
      return;
    }
    next();
  });
  app.use((req: Request, res: Response, next: NextFunction) => {
    // a browser sends text/plain and form bodies cross-site without asking: only JSON runs operations
    const media = (req.headers['content-type'] ?? '').split(';', 1)[0]!.trim().toLowerCase();
    if (req.method === 'POST' && media !== 'application/json') {
      sendGraphQLError(res, new HextwinError('UNSUPPORTED_MEDIA_TYPE', `content-type ${JSON.stringify(media)} is not accepted; POST application/json`), ctx.countError);
      return;
    }
    next();
  });
  app.use(express.json({ limit: ctx.config.maxBodyBytes }));
  app.use((req: Request, _res: Response, next: NextFunction) => {
    // Apollo's Express integration insists on a body property, also for GET
    if (!('body' in req)) (req as { body?: unknown }).body = undefined;
    next();
  });
  app.use(expressMiddleware(apollo, { context: async ({ res }) => makeContext(res.locals.principal as Principal) }));
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const type = (err as { type?: string }).type;
    const code = type ? BODY_ERRORS[type] : undefined;
    if (code)
      sendGraphQLError(
        res,
        new HextwinError(code, code === 'PAYLOAD_TOO_LARGE' ? `The body is larger than MAX_BODY_BYTES (${ctx.config.maxBodyBytes} bytes).` : undefined),
        ctx.countError,
      );
    else if (typeof (err as { status?: unknown }).status === 'number' && (err as { status: number }).status < 500)
      sendGraphQLError(res, new HextwinError('BAD_REQUEST', (err as Error).message), ctx.countError);
    else {
      ctx.logger.error({ err }, 'GraphQL HTTP request failed');
      sendGraphQLError(res, new HextwinError('INTERNAL'), ctx.countError);
    }
  });
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/graphql') {
      sendGraphQLError(res, new HextwinError('NOT_FOUND'), ctx.countError);
      return;
    }
    app(req as Request, res as Response);
  };
}
