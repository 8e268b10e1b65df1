/**
 * The cluster's HTTP surface, for operators and tests (present on every node; 404 when the node
 * is not clustered):
 *
 * - `GET  /api/v1/cluster` — this node, every live node's status, and each partition's owner.
 * - `GET  /api/v1/cluster/twins/{model}/{id}` — a twin as its owner has it right now (answered by
 *   the owner over NATS; 503 CLUSTER_UNAVAILABLE while the partition moves); with `?from=view`,
 *   as this node's copy has it (what its GraphQL sees).
 * - `POST /api/v1/cluster/aggregate` — `{model, groupBy?, metrics?, resolution?}`: scatter-gather
 *   groups (or H3 cells with `resolution`) merged from every node's partial aggregates.
 *
 * Devices send through the connectors (REST, WebSocket, MQTT) of any node, as to one server.
 */
import type { IncomingMessage } from 'node:http';
import { HextwinError, type JsonValue } from '@hextwin/shared';
import { bearer, type Principal } from '../auth/auth.js';
import { sendJson } from '../app/http-errors.js';
import type { AppContext, Feature } from '../app/feature.js';
import { ClusterNode } from './cluster-node.js';
import { MetricOps, type MetricSpec } from './gather.js';

async function readJson(req: IncomingMessage, max: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > max) throw new HextwinError('PAYLOAD_TOO_LARGE');
    chunks.push(c as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HextwinError('INVALID_JSON');
  }
}

function principal(ctx: AppContext, req: IncomingMessage): Principal {
  return ctx.auth.authenticate(bearer(req.headers.authorization));
}

function parseMetrics(raw: unknown): MetricSpec[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) throw new HextwinError('BAD_REQUEST', 'metrics must be a list of {field, op}');
  return raw.map((m, i) => {
    const op = (m as { op?: unknown })?.op;
    const field = (m as { field?: unknown })?.field;
    if (typeof op !== 'string' || !(op in MetricOps))
      throw new HextwinError('BAD_REQUEST', `metrics[${i}].op must be one of ${Object.keys(MetricOps).join(', ')}`);
    if (field !== undefined && typeof field !== 'string') throw new HextwinError('BAD_REQUEST', `metrics[${i}].field must be a string`);
    return { op: op as MetricSpec['op'], ...(field ? { field } : {}) };
  });
}

export const clusterFeature: Feature = {
  name: 'cluster',
  async start(ctx) {
    const node = ctx.engine instanceof ClusterNode ? ctx.engine : undefined;
    ctx.route('/api/v1/cluster', async (req, res) => {
      if (!node) throw new HextwinError('NOT_FOUND', 'this node is not part of a cluster (NATS_URL is not set)');
      const who = principal(ctx, req);
      const path = (req.url ?? '/').split('?')[0]!.replace(/\/+$/, '');
      const rest = path.slice('/api/v1/cluster'.length).split('/').filter(Boolean).map(decodeURIComponent);
      if (rest.length === 0 && req.method === 'GET') {
        if (!who.canRead) throw new HextwinError('FORBIDDEN');
        sendJson(res, 200, { node: node.self, nodes: await node.clusterStatus(), partitions: node.partitions().map((p) => p.owner) });
        return;
      }
      if (rest[0] === 'twins' && rest.length === 3 && req.method === 'GET') {
        const [, model, id] = rest as [string, string, string];
        if (!who.canRead && !who.canWrite(model, id)) throw new HextwinError('FORBIDDEN');
        if (!node.hasModel(model)) throw new HextwinError('UNKNOWN_MODEL', `no model named ${JSON.stringify(model)}`);
        // ?from=view: this node's copy (what GraphQL and subscriptions here see) instead of asking the owner
        const fromView = new URLSearchParams((req.url ?? '').split('?')[1] ?? '').get('from') === 'view';
        const t = fromView ? node.twin(model, id) : await node.fetchTwin(model, id);
        if (!t) throw new HextwinError('TWIN_NOT_FOUND', `no twin ${model}/${id}`);
        sendJson(res, 200, { model: t.model, id: t.id, state: t.state, lat: t.lat ?? null, lng: t.lng ?? null, version: t.version, updatedAt: t.updatedAt });
        return;
      }
      if (rest[0] === 'aggregate' && rest.length === 1 && req.method === 'POST') {
        if (!who.canRead) throw new HextwinError('FORBIDDEN');
        const body = (await readJson(req, ctx.config.maxBodyBytes)) as {
          model?: unknown;
          groupBy?: unknown;
          metrics?: unknown;
          resolution?: unknown;
          where?: JsonValue;
        };
        if (typeof body?.model !== 'string') throw new HextwinError('BAD_REQUEST', 'model is required');
        const metrics = parseMetrics(body.metrics);
        const opts = { metrics, ...(body.where !== undefined ? { where: body.where } : {}) };
        const result =
          body.resolution !== undefined
            ? await node.hexAggregate(body.model, Number(body.resolution), opts)
            : await node.aggregate(body.model, { ...opts, ...(typeof body.groupBy === 'string' ? { groupBy: body.groupBy } : {}) });
        sendJson(res, 200, result);
        return;
      }
      throw new HextwinError(req.method === 'GET' || req.method === 'POST' ? 'NOT_FOUND' : 'METHOD_NOT_ALLOWED');
    });
  },
};
