/**
 * Turning REST request bodies into messages and envelopes: one message or an array of them for a
 * twin's URL, and the bulk forms for gateways (a JSON array of `{model, id, message}`, or NDJSON
 * with one such object per line). Errors name the item or line at fault.
 */
import { HextwinError, type JsonValue } from '@hextwin/shared';
import type { Envelope } from '../engine/types.js';
import { checkDepth } from './json-depth.js';

function typeName(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

export function parseJson(text: string, where = 'the body'): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new HextwinError('INVALID_JSON', `${where} is not valid JSON: ${(e as Error).message}`);
  }
}

/** The messages of `POST /api/v1/messages/{model}/{id}`: one JSON object, or an array of messages. */
export function messagesOf(body: Buffer): JsonValue[] {
  checkDepth(body, 'the body');
  const v = parseJson(body.toString('utf8'));
  if (Array.isArray(v)) return v as JsonValue[];
  if (typeof v === 'object' && v !== null) return [v as JsonValue];
  throw new HextwinError('INVALID_MESSAGE', `expected a JSON object or an array of messages, got ${typeName(v)}`);
}

function envelopeOf(v: unknown, where: string): Envelope {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new HextwinError('INVALID_MESSAGE', `${where}: expected an object {model, id, message}, got ${typeName(v)}`);
  const o = v as Record<string, unknown>;
  if (typeof o.model !== 'string') throw new HextwinError('INVALID_MESSAGE', `${where}: expected 'model' to be a string, got ${typeName(o.model)}`);
  if (typeof o.id !== 'string') throw new HextwinError('INVALID_MESSAGE', `${where}: expected 'id' to be a string, got ${typeName(o.id)}`);
  if (o.message === undefined) throw new HextwinError('INVALID_MESSAGE', `${where}: 'message' is missing`);
  return { model: o.model, id: o.id, message: o.message as JsonValue };
}

/** The envelopes of `POST /api/v1/messages`: a JSON array, or NDJSON (blank lines are skipped). */
export function bulkEnvelopesOf(body: Buffer, ndjson: boolean, maxBatch: number): Envelope[] {
  checkDepth(body, 'the body');
  const text = body.toString('utf8');
  const out: Envelope[] = [];
  if (!ndjson) {
    const v = parseJson(text);
    if (!Array.isArray(v)) throw new HextwinError('INVALID_MESSAGE', `expected a JSON array of {model, id, message}, got ${typeName(v)}`);
    if (v.length > maxBatch) throw tooMany(v.length, maxBatch);
    for (let i = 0; i < v.length; i++) out.push(envelopeOf(v[i], `item ${i}`));
    return out;
  }
  let start = 0;
  let line = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    line++;
    const raw = text.slice(start, end).trim();
    start = end + 1;
    if (!raw) continue;
    if (out.length >= maxBatch) throw tooMany(out.length + 1, maxBatch);
    out.push(envelopeOf(parseJson(raw, `line ${line}`), `line ${line}`));
  }
  return out;
}

export function tooMany(n: number, max: number): HextwinError {
  return new HextwinError('TOO_MANY_MESSAGES', `${n} messages in one request; at most ${max} (MAX_BATCH)`);
}
