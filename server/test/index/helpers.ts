/** Twins for index tests: plain TwinView objects put into a real ModelIndex, changed the way the engine does. */
import type { TwinView } from '../../src/engine/types.js';
import { ModelIndex } from '../../src/index/model-index.js';

export class FakeTwin implements TwinView {
  version = 1;
  createdAt = 1_000;
  updatedAt = 1_000;
  lastError = null;
  constructor(
    readonly model: string,
    readonly id: string,
    public state: Record<string, unknown>,
    public lat: number | undefined = undefined,
    public lng: number | undefined = undefined,
  ) {}
}

/** A model index with helpers that behave like the engine's events. */
export class Twins {
  readonly index = new ModelIndex('m', 4);
  readonly byId = new Map<string, FakeTwin>();

  put(id: string, state: Record<string, unknown>, at?: { lat: number; lng: number }): FakeTwin {
    let t = this.byId.get(id);
    if (!t) {
      t = new FakeTwin('m', id, state, at?.lat, at?.lng);
      this.byId.set(id, t);
    } else {
      t.state = state;
      t.lat = at?.lat;
      t.lng = at?.lng;
      t.version++;
      t.updatedAt++;
    }
    this.index.upsert(t);
    return t;
  }

  remove(id: string): void {
    const t = this.byId.get(id)!;
    this.byId.delete(id);
    this.index.remove(id, t);
  }

  /** ids of the twins matching a predicate over the index, sorted */
  ids(pred: (t: TwinView, s: number) => boolean): string[] {
    const out: string[] = [];
    for (let s = 0; s < this.index.end; s++) {
      const t = this.index.views[s];
      if (t && pred(t, s)) out.push(t.id);
    }
    return out.sort();
  }
}

/** A small deterministic PRNG so property tests are repeatable. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
