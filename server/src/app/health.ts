/** /healthz, /readyz and /metrics. */
import type { Feature } from './feature.js';
import { sendJson } from './http-errors.js';

export const healthFeature = (checks: Map<string, () => string | null>): Feature => ({
  name: 'health',
  async start(ctx) {
    ctx.route('/healthz', (_req, res) => sendJson(res, 200, { status: 'ok' }));
    ctx.route('/readyz', (_req, res) => {
      const failing: Record<string, string> = {};
      for (const [name, check] of checks) {
        const why = check();
        if (why) failing[name] = why;
      }
      if (Object.keys(failing).length) sendJson(res, 503, { status: 'not ready', failing });
      else sendJson(res, 200, { status: 'ready', connectors: ctx.connectors() });
    });
    ctx.route('/metrics', async (_req, res) => {
      const text = await ctx.metrics.metrics();
      res.writeHead(200, { 'content-type': ctx.metrics.contentType });
      res.end(text);
    });
  },
});
