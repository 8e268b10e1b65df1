/**
 * A fleet is the simulated devices of one model: it knows their ids and produces their telemetry.
 * Output depends only on the seed and on the event times asked for, never on the wall clock.
 */
import type { JsonValue } from '@hextwin/shared';
import type { WireEnvelope } from '@hextwin/shared/protocol';

export type { WireEnvelope };

export interface Fleet {
  readonly model: string;
  /** number of devices */
  readonly size: number;
  /** Relative message rate of one device of this fleet (1 = as often as a grid node reports). */
  readonly rateShare: number;
  id(index: number): string;
  /** How many messages `setup` makes. */
  readonly setupSize: number;
  /** Messages that introduce the devices (init), sent once before the steady stream. */
  setup(t: number): WireEnvelope[];
  /** The next message in this fleet's cycle over its devices at event time `t`; undefined when all are silent. */
  next(t: number): WireEnvelope | undefined;
  /** A command came back to one of this fleet's devices (a simulated device may obey it). */
  onCommand?(id: string, command: JsonValue, t: number): void;
}

/** Ids that sort in creation order: `prefix-00042`. */
export function paddedId(prefix: string, index: number, size: number): string {
  return `${prefix}-${String(index + 1).padStart(Math.max(4, String(size).length), '0')}`;
}

/** A round-robin cursor over device indexes that skips the ones that have nothing to say. */
export class Cursor {
  private position = 0;
  constructor(private readonly size: number) {}

  /** The next index for which `speaks(i)` holds, or -1 after a full turn without one. */
  advance(speaks: (i: number) => boolean): number {
    for (let tries = 0; tries < this.size; tries++) {
      const i = this.position;
      this.position = (this.position + 1) % this.size;
      if (speaks(i)) return i;
    }
    return -1;
  }
}
