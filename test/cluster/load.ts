/**
 * Test load for cluster tests: numbered messages per twin (see fixtures/models/sequence.ts), sent
 * in batches through chosen nodes, with a record of what each node acknowledged. A batch whose
 * request failed is "in doubt" (JetStream may or may not hold it): its twins get no further
 * messages, and their final state may include it or not — but never a gap or a duplicate.
 */
import type { SequenceState } from './fixtures/models/sequence.js';

export const valueOf = (seq: number) => (seq * 7) % 13;

/** The state a full replay of messages 1..n gives. */
export function replaySequence(n: number): SequenceState {
  let sum = 0;
  for (let s = 1; s <= n; s++) sum += valueOf(s);
  return { count: n, lastSeq: n, sum, dups: 0, gaps: 0 };
}

export async function post(url: string, body: unknown): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

export class SequenceLoad {
  /** highest acknowledged number per twin */
  readonly acked = new Map<string, number>();
  /** the number of an unacknowledged (in-doubt) message per frozen twin */
  readonly inDoubt = new Map<string, number>();
  /** relay twin id → forwards acknowledged (each relay message forwards one hop) */
  readonly relayAcked = new Map<string, number>();
  readonly relayInDoubt = new Set<string>();
  accepted = 0;
  failed = 0;

  constructor(readonly ids: string[]) {
    for (const id of ids) this.acked.set(id, 0);
  }

  /** Send one numbered message to each of `ids` (not frozen) through `nodeUrl`; true when acknowledged. */
  async send(nodeUrl: string, ids: string[], relays: [string, string][] = []): Promise<boolean> {
    const live = ids.filter((id) => !this.inDoubt.has(id));
    const liveRelays = relays.filter(([r]) => !this.relayInDoubt.has(r));
    const batch: unknown[] = live.map((id) => ({ model: 'sequence', id, message: { seq: this.acked.get(id)! + 1, v: valueOf(this.acked.get(id)! + 1) } }));
    for (const [r, to] of liveRelays) batch.push({ model: 'relay', id: r, message: { to } });
    if (!batch.length) return true;
    let ok = false;
    try {
      const res = await post(nodeUrl + '/api/v1/messages', batch);
      ok = res.status === 202;
      await res.arrayBuffer();
    } catch {
      ok = false;
    }
    if (ok) {
      for (const id of live) this.acked.set(id, this.acked.get(id)! + 1);
      for (const [r] of liveRelays) this.relayAcked.set(r, (this.relayAcked.get(r) ?? 0) + 1);
      this.accepted += batch.length;
    } else {
      for (const id of live) this.inDoubt.set(id, this.acked.get(id)! + 1);
      for (const [r] of liveRelays) this.relayInDoubt.add(r);
      this.failed++;
    }
    return ok;
  }
}

export interface TwinReply {
  state: SequenceState;
  version: number;
}

/** A twin as its owner has it, asked through `nodeUrl`; undefined while nobody serves it. */
export async function ownerTwin<S = SequenceState>(nodeUrl: string, model: string, id: string, fromView = false): Promise<{ state: S } | undefined> {
  try {
    const r = await fetch(`${nodeUrl}/api/v1/cluster/twins/${model}/${encodeURIComponent(id)}${fromView ? '?from=view' : ''}`);
    if (r.status !== 200) {
      await r.arrayBuffer();
      return undefined;
    }
    return (await r.json()) as { state: S };
  } catch {
    return undefined;
  }
}

/** Resolves with `value()` once `cond` holds on it; the error names `what` and the last value. */
export async function eventually<T>(what: string, value: () => Promise<T>, cond: (v: T) => boolean, ms = 20_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + ms;
  let last: T | undefined;
  for (;;) {
    last = await value();
    if (cond(last)) return last;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}; last: ${JSON.stringify(last)?.slice(0, 1_000)}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
