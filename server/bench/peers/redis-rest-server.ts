/**
 * The peer the REST CPU figure compares hextwin with: what a small, ordinary REST + Redis + Lua
 * service does per request, run as a child process of the bench. A node:http server takes the
 * same REST requests as hextwin (`POST /api/v1/messages` with an array of `{model, id, message}`,
 * `POST /api/v1/messages/{model}/{id}` with one message or an array), and for each request runs
 * one Lua script (EVALSHA) that writes every message's fields into its twin's hash and counts it
 * (HSET + HINCRBY), then answers `202 {"accepted": n}` once Redis has answered — with the Redis of
 * lib/redis.ts, after the append-only file is fsynced. argv[2] is the Redis port; it tells its
 * parent its own port over IPC and exits when the parent goes.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';

const MAX_BODY_BYTES = 1024 * 1024;

/** KEYS: one twin hash per message; ARGV per message: a field count, then field, value pairs. */
const UPDATE_TWINS = `
local a = 1
for i = 1, #KEYS do
  local n = tonumber(ARGV[a])
  if n > 0 then
    redis.call('HSET', KEYS[i], unpack(ARGV, a + 1, a + 2 * n))
  end
  redis.call('HINCRBY', KEYS[i], 'n', 1)
  a = a + 1 + 2 * n
end
return #KEYS
`;

interface Envelope {
  model: string;
  id: string;
  message: Record<string, unknown>;
}

const redis = new Redis({ host: '127.0.0.1', port: Number(process.argv[2]), enableAutoPipelining: true, maxRetriesPerRequest: 1 });
const sha = (await redis.script('LOAD', UPDATE_TWINS)) as string;

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
const fail = (res: http.ServerResponse, status: number, code: string, message: string) => send(res, status, { error: { code, message } });

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** The request's envelopes, or a reason why not. */
function envelopes(model: string | undefined, id: string | undefined, body: unknown): Envelope[] | string {
  if (model === undefined) {
    if (!Array.isArray(body)) return 'expected an array of {model, id, message}';
    for (const e of body)
      if (!isObject(e) || typeof e.model !== 'string' || typeof e.id !== 'string' || !isObject(e.message)) return 'expected {model, id, message}';
    return body as Envelope[];
  }
  const list = Array.isArray(body) ? body : [body];
  if (!list.every(isObject)) return 'expected a message object or an array of them';
  return list.map((message) => ({ model, id: id!, message }));
}

const server = http.createServer((req, res) => {
  const parts = (req.url ?? '').split('?')[0]!.split('/');
  // ['', 'api', 'v1', 'messages'] or [..., model, id]
  if (req.method !== 'POST' || parts[1] !== 'api' || parts[2] !== 'v1' || parts[3] !== 'messages' || (parts.length !== 4 && parts.length !== 6)) {
    return fail(res, 404, 'NOT_FOUND', 'no such route');
  }
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (c: Buffer) => {
    size += c.length;
    if (size <= MAX_BODY_BYTES) chunks.push(c);
  });
  req.on('end', () => {
    if (size > MAX_BODY_BYTES) return fail(res, 413, 'PAYLOAD_TOO_LARGE', 'body over 1 MiB');
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return fail(res, 400, 'BAD_JSON', 'the body is not JSON');
    }
    const list = envelopes(
      parts.length === 6 ? decodeURIComponent(parts[4]!) : undefined,
      parts.length === 6 ? decodeURIComponent(parts[5]!) : undefined,
      body,
    );
    if (typeof list === 'string') return fail(res, 400, 'BAD_REQUEST', list);
    const keys: string[] = [];
    const args: string[] = [];
    for (const e of list) {
      keys.push(`twin:${e.model}:${e.id}`);
      const fields = Object.entries(e.message);
      args.push(String(fields.length));
      for (const [k, v] of fields) args.push(k, typeof v === 'object' ? JSON.stringify(v) : String(v));
    }
    redis.evalsha(sha, keys.length, ...keys, ...args).then(
      () => send(res, 202, { accepted: list.length }),
      (e: Error) => fail(res, 500, 'INTERNAL', e.message),
    );
  });
});

server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as AddressInfo).port }));
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
