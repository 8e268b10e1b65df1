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

/** Envelopes that share one source (one device connection's ingest call). */
export interface WireGroup {
  source: SourceRef | null;
  envelopes: Envelope[];
}

/**
 * One JetStream message of a partition's log: the envelopes of many ingest calls, grouped by
 * source. The owner gives the envelopes consecutive positions in this order.
 */
export interface WireRecord {
  groups: WireGroup[];
  /** twin-to-twin hop count (forwarded messages) */
  hops?: number;
  control?: 'remove';
  /** the store position of the first envelope, when the record was appended through TwinStore.append */
  pos?: number;
}

type Packed = [2, unknown[], (SourceRef | null)[], number[], number, 'remove' | null, number | null];

export function envelopeCount(r: WireRecord): number {
  let n = 0;
  for (const g of r.groups) n += g.envelopes.length;
  return n;
}

/** Envelopes flattened as model, id, message triples: smaller and faster than an object each. */
export function encodeRecord(r: WireRecord): Uint8Array {
  const flat: unknown[] = new Array(envelopeCount(r) * 3);
  const sources: (SourceRef | null)[] = [];
  const sizes: number[] = [];
  let j = 0;
  for (const g of r.groups) {
    sources.push(g.source);
    sizes.push(g.envelopes.length);
    for (const e of g.envelopes) {
      flat[j++] = e.model;
      flat[j++] = e.id;
      flat[j++] = e.message;
    }
  }
  const packed: Packed = [2, flat, sources, sizes, r.hops ?? 0, r.control ?? null, r.pos ?? null];
  return packr.pack(packed);
}

export function decodeRecord(b: Uint8Array): WireRecord {
  const [v, flat, sources, sizes, hops, control, pos] = packr.unpack(b) as Packed;
  if (v !== 2 || !Array.isArray(flat) || !Array.isArray(sizes) || !Array.isArray(sources)) throw new Error('not a hextwin log record');
  // sizes must add up to the envelopes present: a forged size must not make us allocate or read past them
  let total = 0;
  for (const n of sizes) {
    if (!Number.isSafeInteger(n) || n < 0) throw new Error('log record with an invalid group size');
    total += n;
  }
  if (total * 3 !== flat.length) throw new Error('log record whose group sizes do not match its envelopes');
  const groups: WireGroup[] = [];
  let j = 0;
  for (let g = 0; g < sizes.length; g++) {
    const envelopes: Envelope[] = new Array(sizes[g]!);
    for (let i = 0; i < sizes[g]!; i++) envelopes[i] = { model: flat[j++] as string, id: flat[j++] as string, message: flat[j++] as Envelope['message'] };
    groups.push({ source: sources[g] ?? null, envelopes });
  }
  const out: WireRecord = { groups };
  if (hops) out.hops = hops;
  if (control) out.control = control;
  if (pos !== null && pos !== undefined) out.pos = pos;
  return out;
}
