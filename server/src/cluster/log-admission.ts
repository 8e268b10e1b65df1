/**
 * What an owner accepts from its partition's log. The node that published a record validated it,
 * but anything that can publish to NATS can put bytes on a partition subject: every record is
 * checked again here (readable, known model, valid id, the twin belongs to this partition, nesting
 * depth, the model's schema), and what fails is counted and skipped, never handed to the engine.
 *
 * Positions stay those of the record as written: a rejected envelope still takes its position (the
 * valid envelopes around it come out as runs at their offsets), so the owner that consumed the
 * record and a later owner that replays it give every envelope the same position.
 */
import { HextwinError, isTwinId, partition as partitionOf } from '@hextwin/shared';
import { MAX_JSON_DEPTH } from '../connectors/json-depth.js';
import type { Envelope, SourceRef } from '../engine/types.js';
import { decodeRecord } from './codec.js';

/** Valid envelopes of one group that follow each other, `offset` envelopes into the group. */
export interface Run {
  offset: number;
  envelopes: Envelope[];
}

export interface CheckedGroup {
  source: SourceRef | null;
  /** envelopes the group had as written, valid or not */
  size: number;
  runs: Run[];
}

export interface CheckedRecord {
  groups: CheckedGroup[];
  /** envelopes the record had as written */
  size: number;
  hops?: number;
  control?: 'remove';
  pos?: number;
}

export interface AdmissionRules {
  partition: number;
  hasModel(model: string): boolean;
  /** throws a coded error when an envelope does not match its model */
  validate(envelopes: Envelope[]): void;
  /** `n` envelopes (or one unreadable record) skipped for `reason` (an error code) */
  onReject(reason: string, n: number, detail: string): void;
}

function deeperThan(v: unknown, max: number): boolean {
  if (v === null || typeof v !== 'object') return false;
  if (max <= 0) return true;
  if (Array.isArray(v)) {
    for (const x of v) if (deeperThan(x, max - 1)) return true;
    return false;
  }
  for (const k in v) if (deeperThan((v as Record<string, unknown>)[k], max - 1)) return true;
  return false;
}

function validSource(s: unknown): s is SourceRef | null {
  if (s === null || s === undefined) return true;
  if (typeof s !== 'object' || Array.isArray(s)) return false;
  const r = s as Record<string, unknown>;
  return typeof r.connector === 'string' && ['connection', 'node'].every((k) => r[k] === undefined || typeof r[k] === 'string');
}

const EMPTY: CheckedRecord = { groups: [], size: 0 };

export class LogAdmission {
  constructor(private readonly rules: AdmissionRules) {}

  /** The record's envelopes this partition may apply; never throws. */
  decode(data: Uint8Array): CheckedRecord {
    let w;
    try {
      w = decodeRecord(data);
    } catch (err) {
      this.rules.onReject('INVALID_FRAME', 1, `unreadable log record: ${(err as Error).message}`);
      return EMPTY;
    }
    const { hops, control, pos } = w;
    const count = w.groups.reduce((n, g) => n + (Array.isArray(g.envelopes) ? g.envelopes.length : 0), 0);
    const bad =
      (hops !== undefined && (!Number.isSafeInteger(hops) || hops < 0)) ||
      (control !== undefined && control !== 'remove') ||
      (pos !== undefined && (!Number.isSafeInteger(pos) || pos < 1));
    if (bad) {
      // the record's framing is forged: none of it is trusted, but its envelopes keep their positions
      this.rules.onReject('INVALID_FRAME', Math.max(1, count), 'log record with an invalid hop count, control or position');
      return { groups: w.groups.map((g) => ({ source: null, size: g.envelopes.length, runs: [] })), size: count };
    }
    const out: CheckedRecord = { groups: [], size: count };
    if (hops) out.hops = hops;
    if (control) out.control = control;
    if (pos !== undefined) out.pos = pos;
    for (const g of w.groups) {
      const size = g.envelopes.length;
      if (!validSource(g.source)) {
        this.rules.onReject('INVALID_FRAME', size, 'log record with an invalid source');
        out.groups.push({ source: null, size, runs: [] });
        continue;
      }
      out.groups.push({ source: g.source ?? null, size, runs: this.runs(g.envelopes, !!hops, control) });
    }
    return out;
  }

  private runs(envelopes: Envelope[], internal: boolean, control: 'remove' | undefined): Run[] {
    if (!envelopes.length) return [];
    if (this.allValid(envelopes, internal, control)) return [{ offset: 0, envelopes }];
    const runs: Run[] = [];
    let cur: Run | null = null;
    for (let i = 0; i < envelopes.length; i++) {
      const e = envelopes[i]!;
      const reason = this.check(e, internal, control);
      if (reason) {
        this.rules.onReject(reason.code, 1, reason.message);
        cur = null;
        continue;
      }
      if (!cur) runs.push((cur = { offset: i, envelopes: [] }));
      cur.envelopes.push(e);
    }
    return runs;
  }

  private allValid(envelopes: Envelope[], internal: boolean, control: 'remove' | undefined): boolean {
    for (const e of envelopes) if (this.structural(e, internal, control)) return false;
    if (control) return true;
    try {
      this.rules.validate(envelopes);
      return true;
    } catch {
      return false;
    }
  }

  /** Checks that need no schema: shape, id, partition, depth. */
  private structural(e: Envelope, internal: boolean, control: 'remove' | undefined): { code: string; message: string } | null {
    if (e === null || typeof e !== 'object' || typeof e.model !== 'string' || typeof e.id !== 'string')
      return { code: 'INVALID_FRAME', message: 'not an envelope' };
    if (!this.rules.hasModel(e.model)) return { code: 'UNKNOWN_MODEL', message: `no model named ${JSON.stringify(e.model).slice(0, 80)}` };
    if (!isTwinId(e.id)) return { code: 'INVALID_ID', message: `invalid twin id ${JSON.stringify(e.id).slice(0, 80)}` };
    // external input is published to its twin's partition; only twin-to-twin items may name another (they are forwarded)
    if (!internal && partitionOf(e.model, e.id) !== this.rules.partition)
      return { code: 'INVALID_FRAME', message: `${e.model}/${e.id} belongs to another partition` };
    if (!control && deeperThan(e.message, MAX_JSON_DEPTH))
      return { code: 'INVALID_MESSAGE', message: `${e.model}/${e.id}: message nests deeper than ${MAX_JSON_DEPTH}` };
    return null;
  }

  private check(e: Envelope, internal: boolean, control: 'remove' | undefined): { code: string; message: string } | null {
    const s = this.structural(e, internal, control);
    if (s || control) return s;
    try {
      this.rules.validate([e]);
      return null;
    } catch (err) {
      return err instanceof HextwinError ? { code: err.code, message: err.message } : { code: 'INVALID_MESSAGE', message: String(err) };
    }
  }
}
