/**
 * /healthz, /readyz and /metrics.
 *
 * With an AUTH_FILE, /metrics needs a key that may read (viewer, operator, admin), as a Bearer
 * token (Prometheus: `authorization: { credentials: … }`). /healthz stays open, and so does the
 * status code of /readyz, for load balancers and orchestrators that probe without credentials; but
 * only a reading key sees why it is not ready and which connectors run.
 */
import type { IncomingMessage } from 'node:http';
import { HextwinError } from '@hextwin/shared';
import { bearer } from '../auth/auth.js';
import type { AppContext, Feature } from './feature.js';
import { sendError, sendJson } from './http-errors.js';

/** Throws UNAUTHENTICATED (no or unknown key) or FORBIDDEN (a device key) unless the request may read. */
function requireReader(ctx: AppContext, req: IncomingMessage): void {
  const principal = ctx.auth.authenticate(bearer(req.headers.authorization));
  if (!principal.canRead) throw new HextwinError('FORBIDDEN', `the key "${principal.name}" is a device key; metrics and readiness details need a viewer key`);
}

function mayRead(ctx: AppContext, req: IncomingMessage): boolean {
  try {
    requireReader(ctx, req);
    return true;
  } catch {
    return false;
  }
}

export const healthFeature = (checks: Map<string, () => string | null>): Feature => ({
  name: 'health',
  async start(ctx) {
    ctx.route('/healthz', (_req, res) => sendJson(res, 200, { status: 'ok' }));
    ctx.route('/readyz', (req, res) => {
      const failing: Record<string, string> = {};
      for (const [name, check] of checks) {
        const why = check();
        if (why) failing[name] = why;
      }
      const ready = Object.keys(failing).length === 0;
      const details = mayRead(ctx, req);
      if (!ready) sendJson(res, 503, details ? { status: 'not ready', failing } : { status: 'not ready' });
      else sendJson(res, 200, details ? { status: 'ready', connectors: ctx.connectors() } : { status: 'ready' });
    });
    ctx.route('/metrics', async (req, res) => {
      try {
        requireReader(ctx, req);
      } catch (e) {
        const coded = sendError(res, e, { 'www-authenticate': 'Bearer realm="hextwin"' });
        ctx.countError(coded.code);
        return;
      }
      const text = await ctx.metrics.metrics();
      res.writeHead(200, { 'content-type': ctx.metrics.contentType });
      res.end(text);
    });
  },
});
