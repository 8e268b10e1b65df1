/**
 * Binary encodings of what travels through NATS: log records (one JetStream message holds the
 * envelopes of many devices for one partition) and generic msgpack values.
 */
import { Packr } from 'msgpackr';
import type { Envelope, SourceRef } from '../engine/types.js';

const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false });

export function pack(v: unknown): Uint8Array {
  return packr.pack(v);
}

export function unpack<T>(b: Uint8Array): T {
  return packr.unpack(b) as T;
}

/** A log record as stored in the partition's JetStream subject. */
export interface WireRecord {
  envelopes: Envelope[];
  source?: SourceRef | null;
  hops?: number;
  control?: 'remove';
  /** the store position, when the record was appended through TwinStore.append */
  pos?: number;
}

type Packed = [1, unknown[], SourceRef | null, number, 'remove' | null, number | null];

/** Envelopes flattened as model, id, message triples: smaller and faster than an object each. */
export function encodeRecord(r: WireRecord): Uint8Array {
  const flat = new Array(r.envelopes.length * 3);
  for (let i = 0, j = 0; i < r.envelopes.length; i++) {
    const e = r.envelopes[i]!;
    flat[j++] = e.model;
    flat[j++] = e.id;
    flat[j++] = e.message;
  }
  const packed: Packed = [1, flat, r.source ?? null, r.hops ?? 0, r.control ?? null, r.pos ?? null];
  return packr.pack(packed);
}

export function decodeRecord(b: Uint8Array): WireRecord {
  const [v, flat, source, hops, control, pos] = packr.unpack(b) as Packed;
  if (v !== 1 || !Array.isArray(flat)) throw new Error('not a hextwin log record');
  const envelopes: Envelope[] = new Array(flat.length / 3);
  for (let i = 0, j = 0; j < flat.length; i++) envelopes[i] = { model: flat[j++] as string, id: flat[j++] as string, message: flat[j++] as Envelope['message'] };
  const out: WireRecord = { envelopes, source };
  if (hops) out.hops = hops;
  if (control) out.control = control;
  if (pos !== null && pos !== undefined) out.pos = pos;
  return out;
}
