/** Serves the built dashboard (web/dist) at `/`, with index.html for client-side routes. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express from 'express';
import type { Feature } from './feature.js';
import { sendJson } from './http-errors.js';

export const defaultWebDir = fileURLToPath(new URL('../../../web/dist', import.meta.url));

export const dashboardFeature: Feature = {
  name: 'dashboard',
  async start(ctx) {
    const dir = ctx.config.webDir ?? defaultWebDir;
    if (!existsSync(path.join(dir, 'index.html'))) {
      ctx.logger.warn({ dir }, 'no built dashboard found; run `pnpm --filter @hextwin/web build` (pnpm demo does)');
      ctx.route('/', (_req, res) =>
        sendJson(res, 404, { error: { code: 'NOT_FOUND', message: 'The dashboard is not built: run `pnpm --filter @hextwin/web build`.' } }),
      );
      return;
    }
    const app = express();
    app.disable('x-powered-by');
    app.use(
      express.static(dir, {
        index: 'index.html',
        maxAge: '1h',
        setHeaders: (res, file) => file.endsWith('index.html') && res.setHeader('cache-control', 'no-cache'),
      }),
    );
    app.use((req, res) => {
      if (req.method !== 'GET' && req.method !== 'HEAD')
        return sendJson(res, 404, { error: { code: 'NOT_FOUND', message: 'Nothing is served at that path.' } });
      res.setHeader('cache-control', 'no-cache');
      res.sendFile(path.join(dir, 'index.html'));
    });
    ctx.route('/', (req, res) => void app(req, res));
  },
};
