/**
 * Recordings over HTTP (GraphQL has them too: `recordings`, `startRecording`, `stopRecording`,
 * `replayRecording`):
 *
 * - `GET /api/v1/recordings` — every recording `{ name, model, sizeBytes, from, to, active }`.
 * - `GET /api/v1/recordings/{name}` — the recording's NDJSON, streamed.
 *
 * Both need a key that may read (viewer, operator, admin). Models declaring `record` are recorded
 * from the start.
 */
import { pipeline } from 'node:stream/promises';
import { HextwinError } from '@hextwin/shared';
import { bearer } from '../auth/auth.js';
import { sendJson } from '../app/http-errors.js';
import type { Feature } from '../app/feature.js';

const PREFIX = '/api/v1/recordings';

export const recordingFeature: Feature = {
  name: 'recording',
  async start(ctx) {
    const recorder = ctx.recorder;
    if (!recorder) return;
    ctx.route(PREFIX, async (req, res) => {
      const who = ctx.auth.authenticate(bearer(req.headers.authorization));
      if (!who.canRead) throw new HextwinError('FORBIDDEN', `the key "${who.name}" (${who.role}) may not read recordings`);
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new HextwinError('METHOD_NOT_ALLOWED');
      const rest = (req.url ?? '/')
        .split('?')[0]!
        .slice(PREFIX.length)
        .replace(/^\/+|\/+$/g, '');
      if (rest === '') {
        sendJson(res, 200, { recordings: (await recorder.list()).map((r) => ({ ...r, from: iso(r.from), to: iso(r.to) })) });
        return;
      }
      if (rest.includes('/')) throw new HextwinError('NOT_FOUND');
      const name = decodeURIComponent(rest);
      const body = await recorder.stream(name);
      res.writeHead(200, { 'content-type': 'application/x-ndjson; charset=utf-8', 'content-disposition': `attachment; filename="${name}"` });
      if (req.method === 'HEAD') {
        body.destroy();
        res.end();
        return;
      }
      await pipeline(body, res);
    });
    const declared = async () => {
      for (const m of ctx.engine.models()) if (m.record) await recorder.start(m.name, m.record);
    };
    if (ctx.engine.ready) await declared();
    const off = ctx.engine.on('ready', () => void declared().catch((err: unknown) => ctx.logger.error({ err }, 'could not start a declared recording')));
    return {
      async stop() {
        off();
        await recorder.close();
      },
    };
  },
};

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
