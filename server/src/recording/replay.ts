/**
 * Playback of a recording: its messages handed to a server (or the workbench) again, spaced as they
 * arrived divided by `speed` (speed 0: as fast as the server takes them). The clock that waits is
 * the caller's: real time for a server, the virtual clock in the workbench.
 */
import { HextwinError, isModelName, isTwinId, type JsonValue } from '@hextwin/shared';
import type { Envelope } from '../engine/types.js';

export interface RecordedMessage {
  at: number;
  model: string;
  id: string;
  message: JsonValue;
}

/** Messages handed over together when no wait separates them. */
const MAX_BATCH = 500;

/** Parse NDJSON lines (or already parsed objects); BAD_REQUEST names the first bad line. */
export function parseRecording(input: string | readonly (string | RecordedMessage)[]): RecordedMessage[] {
  const items = typeof input === 'string' ? input.split('\n') : input;
  const out: RecordedMessage[] = [];
  items.forEach((item, i) => {
    if (typeof item === 'string' && item.trim() === '') return;
    let v: unknown = item;
    if (typeof item === 'string') {
      try {
        v = JSON.parse(item);
      } catch {
        throw new HextwinError('BAD_REQUEST', `recording line ${i + 1} is not JSON`);
      }
    }
    const r = v as Partial<RecordedMessage> | null;
    if (
      !r ||
      typeof r.at !== 'number' ||
      typeof r.model !== 'string' ||
      !isModelName(r.model) ||
      typeof r.id !== 'string' ||
      !isTwinId(r.id) ||
      !('message' in r)
    ) {
      throw new HextwinError('BAD_REQUEST', `recording line ${i + 1} must be {"at": number, "model", "id", "message"}`);
    }
    out.push({ at: r.at, model: r.model, id: r.id, message: r.message as JsonValue });
  });
  // arrival order; a stable sort keeps the order of messages that arrived at the same time
  return out.sort((a, b) => a.at - b.at);
}

export interface ReplayOptions {
  /** 1 replays in real time, 60 an hour a minute; 0 as fast as possible. Default 1. */
  speed?: number;
  /** Wait until `ms` after the replay started (on the caller's clock). */
  waitUntil(ms: number): Promise<void>;
  /** Hand a batch to the server; a refusal is counted and the replay goes on. */
  send(envelopes: Envelope[]): Promise<void>;
  /** After each batch: how many, whether refused, the arrival time of its last message. */
  onBatch?(count: number, refused: boolean, at: number): void;
}

export interface ReplayResult {
  messages: number;
  refused: number;
}

export function checkSpeed(speed: number): number {
  if (!Number.isFinite(speed) || speed < 0) throw new HextwinError('BAD_REQUEST', 'speed must be a number >= 0 (0: as fast as possible)');
  return speed;
}

export async function replay(messages: readonly RecordedMessage[], opts: ReplayOptions): Promise<ReplayResult> {
  const speed = checkSpeed(opts.speed ?? 1);
  const result: ReplayResult = { messages: 0, refused: 0 };
  if (messages.length === 0) return result;
  const t0 = messages[0]!.at;
  let i = 0;
  while (i < messages.length) {
    const due = speed === 0 ? 0 : (messages[i]!.at - t0) / speed;
    if (due > 0) await opts.waitUntil(due);
    const batch: Envelope[] = [];
    let lastAt = messages[i]!.at;
    // what is due at the same moment goes as one batch
    while (i < messages.length && batch.length < MAX_BATCH && (speed === 0 || (messages[i]!.at - t0) / speed <= due)) {
      const m = messages[i++]!;
      lastAt = m.at;
      batch.push({ model: m.model, id: m.id, message: m.message });
    }
    let refused = false;
    try {
      await opts.send(batch);
      result.messages += batch.length;
    } catch {
      refused = true;
      result.refused += batch.length;
    }
    opts.onBatch?.(batch.length, refused, lastAt);
  }
  return result;
}

/** `waitUntil` on real time, from now. */
export function realTimeWaiter(): (ms: number) => Promise<void> {
  const start = performance.now();
  return (ms) => new Promise((r) => setTimeout(r, Math.max(0, start + ms - performance.now())));
}
