/**
 * The REST connector (DESIGN.md's contract):
 *   POST /api/v1/messages/{model}/{id}      one message or an array; 202 {"accepted": n} once durable
 *   POST /api/v1/messages                   bulk: JSON array of {model, id, message}, or NDJSON
 *   GET  /api/v1/messages/{model}/{id}      commands queued for the device (not removed)
 *   POST /api/v1/messages/{model}/{id}/ack  remove them: all, or {"ids": [...]}
 * A request is accepted whole or not at all. Errors are {"error": {code, message}} with the
 * registry's status; 429 carries Retry-After.
 */
import type { RawBatch } from '../store/raw-batch.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { HextwinError, toCoded, type JsonValue } from '@hextwin/shared';
import type { AppContext } from '../app/feature.js';
import { sendError, sendJson } from '../app/http-errors.js';
import { bearer, type Principal } from '../auth/auth.js';
import type { Envelope, SourceRef } from '../engine/types.js';
import { abandonBody, readBody } from './body-reader.js';
import { ConnectorState, type Connector, type ConnectorStatus } from './connector.js';
import type { ConnectorCounters } from './connector-metrics.js';
import type { Admission, Lane } from './admission.js';
import { bulkEnvelopesOf, messagesOf, parseJson } from './rest-body.js';

export const REST_PREFIX = '/api/v1/messages';
const SOURCE: SourceRef = { connector: 'rest' };

/** One queued command as the pull list shows it. */
export interface PulledCommand {
  id: string;
  command: JsonValue;
  /** ISO 8601, engine clock */
  at: string;
}

export class RestConnector implements Connector {
  readonly name = 'rest';
  private running = false;
  private readonly lanes = new WeakMap<Socket, Lane>();
  private readonly watched = new WeakSet<Socket>();

  constructor(
    private readonly ctx: AppContext,
    private readonly counters: ConnectorCounters,
    private readonly admission: Admission,
  ) {}

  async start(): Promise<void> {
    this.running = true;
    this.ctx.route(REST_PREFIX, (req, res) => this.handle(req, res));
  }

  async stop(): Promise<void> {
    this.running = false;
  }

  status(): ConnectorStatus {
    return { state: this.running ? ConnectorState.Up : ConnectorState.Stopped, connections: 0 };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const t0 = performance.now();
    try {
      if (!this.running) throw new HextwinError('SHUTTING_DOWN');
      const url = req.url ?? '/';
      const q = url.indexOf('?');
      const rest = (q < 0 ? url : url.slice(0, q)).slice(REST_PREFIX.length);
      const principal = this.ctx.auth.authenticate(bearer(req.headers.authorization));
      if (req.method === 'POST') requireJsonBody(req, rest === '' || rest === '/');
      if (rest === '' || rest === '/') {
        if (req.method !== 'POST') throw notAllowed(res, 'POST');
        return await this.ingestBulk(req, res, this.laneOf(req.socket, principal), t0);
      }
      const parts = rest.split('/');
      // parts[0] is '' (the path continues with '/')
      if (parts.length < 3 || parts.length > 4 || parts[0] !== '' || (parts.length === 4 && parts[3] !== 'ack')) throw new HextwinError('NOT_FOUND');
      const model = parts[1]!;
      const id = decodeId(parts[2]!);
      // ingest validates the model with the messages, in admission; the other routes check it here
      if (parts.length === 3 && req.method === 'POST') return await this.ingestOne(req, res, this.laneOf(req.socket, principal), model, id, t0);
      if (!this.ctx.engine.hasModel(model)) throw new HextwinError('UNKNOWN_MODEL', `no model named ${JSON.stringify(model)}`);
      if (parts.length === 4) {
        if (req.method !== 'POST') throw notAllowed(res, 'POST');
        return await this.ack(req, res, principal, model, id);
      }
      if (req.method === 'GET' || req.method === 'HEAD') return this.pull(res, principal, model, id);
      throw notAllowed(res, 'GET, POST');
    } catch (e) {
      this.fail(req, res, e);
    }
  }

  /** The admission lane of a keep-alive connection: opened at its first request, closed with it. */
  private laneOf(socket: Socket, principal: Principal): Lane {
    const lane = this.lanes.get(socket);
    if (lane?.principal === principal) return lane;
    lane?.close();
    this.lanes.delete(socket);
    if (!this.watched.has(socket)) {
      this.watched.add(socket);
      socket.once('close', () => this.lanes.get(socket)?.close());
    }
    const opened = this.admission.open(principal);
    this.lanes.set(socket, opened);
    return opened;
  }

  private async ingestOne(req: IncomingMessage, res: ServerResponse, lane: Lane, model: string, id: string, t0: number): Promise<void> {
    this.refuseWhenOverloaded();
    const body = await readBody(req, this.ctx.config.maxBodyBytes);
    const messages = messagesOf(body);
    const envelopes = new Array<Envelope>(messages.length);
    for (let i = 0; i < messages.length; i++) envelopes[i] = { model, id, message: messages[i]! };
    // the log keeps the body itself: it describes these envelopes exactly (store/raw-batch.ts)
    await this.accept(res, lane, envelopes, t0, { format: 'messages', model, id, bytes: body });
  }

  private async ingestBulk(req: IncomingMessage, res: ServerResponse, lane: Lane, t0: number): Promise<void> {
    this.refuseWhenOverloaded();
    const ndjson = (req.headers['content-type'] ?? '').toLowerCase().startsWith('application/x-ndjson');
    const body = await readBody(req, this.ctx.config.maxBodyBytes);
    const envelopes = bulkEnvelopesOf(body, ndjson, this.ctx.config.maxBatch);
    await this.accept(res, lane, envelopes, t0, { format: 'envelopes', ndjson, bytes: body });
  }

  private async accept(res: ServerResponse, lane: Lane, envelopes: Envelope[], t0: number, raw?: RawBatch): Promise<void> {
    this.admission.admit(lane, envelopes, t0);
    await this.admission.submit(envelopes, SOURCE, raw);
    this.counters.messagesIn.inc(envelopes.length);
    sendJson(res, 202, { accepted: envelopes.length });
    this.counters.ackSeconds.observe((performance.now() - t0) / 1000);
  }

  private pull(res: ServerResponse, principal: Principal, model: string, id: string): void {
    if (!principal.canRead && !principal.canWrite(model, id)) throw forbidden(principal, 'read the commands of', model, id);
    const commands: PulledCommand[] = this.ctx.engine
      .pendingCommands(model, id)
      .map((c) => ({ id: c.cid, command: c.command, at: new Date(c.at).toISOString() }));
    sendJson(res, 200, { commands });
  }

  private async ack(req: IncomingMessage, res: ServerResponse, principal: Principal, model: string, id: string): Promise<void> {
    if (!principal.canWrite(model, id)) throw forbidden(principal, 'acknowledge the commands of', model, id);
    const body = await readBody(req, this.ctx.config.maxBodyBytes);
    let ids: string[] | undefined;
    const text = body.toString('utf8').trim();
    if (text) {
      const v = parseJson(text) as { ids?: unknown } | null;
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new HextwinError('BAD_REQUEST', 'expected an empty body or {"ids": ["..."]}');
      if (v.ids !== undefined) {
        if (!Array.isArray(v.ids) || !v.ids.every((x) => typeof x === 'string'))
          throw new HextwinError('BAD_REQUEST', "expected 'ids' to be an array of strings");
        ids = v.ids as string[];
      }
    }
    const n = await this.ctx.engine.ackCommands(model, id, ids);
    sendJson(res, 200, { acknowledged: n });
  }

  private refuseWhenOverloaded(): void {
    if (this.ctx.engine.overloaded) {
      this.counters.backpressure.inc();
      throw new HextwinError('OVERLOADED', 'the engine is at capacity; retry later');
    }
  }

  private fail(req: IncomingMessage, res: ServerResponse, e: unknown): void {
    const coded = toCoded(e);
    this.counters.error(coded.code);
    if (coded.code === 'INTERNAL') this.ctx.logger.error({ err: e, url: req.url }, 'REST request failed');
    const headers: Record<string, string> = {};
    if (coded.code === 'RATE_LIMITED') headers['retry-after'] = String(Math.max(1, Math.ceil(Number(coded.details?.retryAfterMs ?? 1000) / 1000)));
    else if (coded.code === 'OVERLOADED') headers['retry-after'] = '1';
    else if (coded.code === 'UNAUTHENTICATED') headers['www-authenticate'] = 'Bearer';
    else if ((coded.code === 'PAYLOAD_TOO_LARGE' || coded.code === 'UNSUPPORTED_MEDIA_TYPE') && !req.complete) {
      headers.connection = 'close';
      abandonBody(req);
    }
    sendError(res, coded, headers);
  }
}

/**
 * POST bodies are JSON (bulk: or NDJSON). A browser can send text/plain, form and multipart bodies
 * to any site without asking first: refusing them takes cross-site form posts off the table. A
 * POST without a body (acknowledge all) may omit the type.
 */
function requireJsonBody(req: IncomingMessage, bulk: boolean): void {
  const type = req.headers['content-type'];
  if (type === undefined) {
    if (req.headers['content-length'] === '0' || (req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined)) return;
    throw new HextwinError('UNSUPPORTED_MEDIA_TYPE', 'send the body with content-type: application/json');
  }
  const media = type.split(';', 1)[0]!.trim().toLowerCase();
  if (media === 'application/json' || (bulk && media === 'application/x-ndjson')) return;
  throw new HextwinError(
    'UNSUPPORTED_MEDIA_TYPE',
    `content-type ${JSON.stringify(media)} is not accepted; send application/json${bulk ? ' or application/x-ndjson' : ''}`,
  );
}

function decodeId(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new HextwinError('INVALID_ID', `the twin id in the path is not valid percent-encoding: ${JSON.stringify(raw)}`);
  }
}

function notAllowed(res: ServerResponse, allow: string): HextwinError {
  res.setHeader('allow', allow);
  return new HextwinError('METHOD_NOT_ALLOWED', `use ${allow} here`);
}

function forbidden(p: Principal, what: string, model: string, id: string): HextwinError {
  return new HextwinError('FORBIDDEN', `key "${p.name}" (${p.role}) may not ${what} ${model}/${id}`);
}
