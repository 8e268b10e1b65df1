/**
 * A batch logged as the bytes it arrived in. Re-encoding every accepted batch into msgpack cost
 * about an eighth of the server's CPU under REST load; a request body is already a complete,
 * deterministic description of its envelopes, so the log keeps the body (a copy) and a tag saying
 * how it was parsed, and recovery parses it again the same way.
 */
import type { Envelope } from '../engine/types.js';
import { bulkEnvelopesOf, messagesOf } from '../connectors/rest-body.js';

export type RawBatch =
  /** `POST /api/v1/messages/{model}/{id}`: one message object or an array of them */
  | { format: 'messages'; model: string; id: string; bytes: Uint8Array }
  /** `POST /api/v1/messages`: a JSON array (or NDJSON) of {model, id, message} */
  | { format: 'envelopes'; ndjson: boolean; bytes: Uint8Array };

const asBuffer = (b: Uint8Array): Buffer => (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength));

/** The envelopes a raw batch stands for: the same parse the connector ran when it was accepted. */
export function decodeRaw(raw: RawBatch): Envelope[] {
  if (raw.format === 'messages') return messagesOf(asBuffer(raw.bytes)).map((message) => ({ model: raw.model, id: raw.id, message }));
  return bulkEnvelopesOf(asBuffer(raw.bytes), raw.ndjson, Infinity);
}
