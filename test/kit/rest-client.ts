/** Small REST helpers for tests: requests with a key, and the probe model's state read back. */
import { randomUUID } from 'node:crypto';
import type { JsonValue } from '@hextwin/shared';
import { Refusal } from './ws-client.js';

export interface RestAnswer {
  status: number;
  body: any;
  headers: Headers;
}

export async function request(
  url: string,
  method: string,
  path: string,
  opts: { key?: string; body?: string | Buffer | JsonValue; contentType?: string } = {},
): Promise<RestAnswer> {
  const headers: Record<string, string> = {};
  if (opts.key) headers.authorization = `Bearer ${opts.key}`;
  let body: string | Buffer | undefined;
  if (opts.body !== undefined) {
    body = typeof opts.body === 'string' || Buffer.isBuffer(opts.body) ? opts.body : JSON.stringify(opts.body);
    headers['content-type'] = opts.contentType ?? 'application/json';
  }
  const res = await fetch(url + path, { method, headers, body: body === undefined || typeof body === 'string' ? body : new Uint8Array(body) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

const twinPath = (model: string, id: string) => `/api/v1/messages/${encodeURIComponent(model)}/${encodeURIComponent(id)}`;

/** POST messages for one twin; resolves with the accepted count, or rejects with the refusal. */
export async function postMessages(url: string, model: string, id: string, messages: JsonValue | JsonValue[], key?: string): Promise<number> {
  const r = await request(url, 'POST', twinPath(model, id), { key, body: messages as JsonValue });
  if (r.status !== 202) throw new Refusal(r.body?.error?.code ?? `HTTP_${r.status}`, r.body?.error?.message ?? String(r.body), r.status);
  return r.body.accepted as number;
}

export interface PulledCommand {
  id: string;
  command: any;
  at: string;
}

export async function pullCommands(url: string, model: string, id: string, key?: string): Promise<PulledCommand[]> {
  const r = await request(url, 'GET', twinPath(model, id), { key });
  if (r.status !== 200) throw new Refusal(r.body?.error?.code ?? `HTTP_${r.status}`, String(r.body?.error?.message), r.status);
  return r.body.commands as PulledCommand[];
}

export async function ackCommands(url: string, model: string, id: string, ids: string[] | undefined, key?: string): Promise<number> {
  const r = await request(url, 'POST', twinPath(model, id) + '/ack', { key, body: ids ? { ids } : {} });
  if (r.status !== 200) throw new Refusal(r.body?.error?.code ?? `HTTP_${r.status}`, String(r.body?.error?.message), r.status);
  return r.body.acknowledged as number;
}

/** Poll the pull list until a command matching `pred` is there. */
export async function waitForCommand(
  url: string,
  model: string,
  id: string,
  pred: (c: PulledCommand) => boolean,
  key?: string,
  timeoutMs = 10_000,
): Promise<PulledCommand> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = (await pullCommands(url, model, id, key)).find(pred);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for a command for ${model}/${id}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** What a recording fixture model (probe, slow) holds for a twin. */
export interface RecordedState {
  count: number;
  seqs: number[];
  dups: number;
}

/**
 * Ask a recording twin for its state: a `report` message over REST, answered as a command in the
 * pull list (then acknowledged). Everything accepted for the twin before is applied before it.
 */
export async function report(url: string, model: string, id: string, key?: string, timeoutMs = 30_000): Promise<RecordedState> {
  const tag = randomUUID();
  await postMessages(url, model, id, { op: 'report', tag }, key);
  const c = await waitForCommand(url, model, id, (x) => x.command?.report === tag, key, timeoutMs);
  await ackCommands(url, model, id, [c.id], key);
  return { count: c.command.count, seqs: c.command.seqs, dups: c.command.dups };
}

/**
 * Poll a twin's report until `done` holds, for messages still in flight (e.g. redelivered by a
 * broker). While a device's messages keep arriving over MQTT or WebSocket, a report may end a batch
 * whose last message came from that device: its answer then goes down the device's channel
 * instead of the pull list, so an attempt that gets no answer is simply repeated.
 */
export async function reportWhen(
  url: string,
  model: string,
  id: string,
  done: (s: RecordedState) => boolean,
  key?: string,
  timeoutMs = 20_000,
): Promise<RecordedState> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let s: RecordedState | undefined;
    try {
      s = await report(url, model, id, key, 2_000);
    } catch (e) {
      if (Date.now() > deadline) throw e;
    }
    if (s && (done(s) || Date.now() > deadline)) return s;
    await new Promise((r) => setTimeout(r, 100));
  }
}
