/** The engine's record of one live twin. Kept small: a million of these must fit in well under 1 GB. */
import type { SourceRef, TwinError, TwinView } from './types.js';
import type { CompiledModel } from './compiled-model.js';
import type { TimerEntry } from './timer-heap.js';

/** A queued item: a message (with its log position), a timer firing, or a removal request. */
export type MailItem =
  | { kind: 'msg'; pos: number; message: unknown; hops: number; rec: LogRecordRef | null; source: SourceRef | null }
  | { kind: 'timer'; name: string; gen: number }
  | { kind: 'remove'; pos: number; rec?: LogRecordRef | null };

/** Counts the not-yet-applied envelopes of one durable log record, to know how far the log can be truncated. */
export interface LogRecordRef {
  pos: number;
  remaining: number;
}

export interface TimerState {
  due: number;
  every: number | undefined;
  /** increases when the timer is restarted: a firing queued for an older generation is dropped */
  gen: number;
  /** its entry in the engine's timer heap */
  entry: TimerEntry<Twin>;
}

export class Twin implements TwinView {
  state: unknown;
  lastPos = 0;
  version = 0;
  createdAt: number;
  updatedAt: number;
  lat: number | undefined = undefined;
  lng: number | undefined = undefined;
  mailbox: MailItem[] | null = null;
  /** in the ready queue or running */
  scheduled = false;
  timers: Map<string, TimerState> | null = null;
  source: SourceRef | null = null;
  lastError: TwinError | null = null;
  /** ids of this twin's most recent alerts, newest last */
  alertIds: string[] | null = null;
  removed = false;
  /** checkpoint generation in which this twin last became dirty (0: clean since its last capture) */
  dirtyGen = 0;
  /** a checkpoint round that must capture this twin when its running async batch ends (0: none) */
  lateGen = 0;
  /** the analytics index's slot for this twin (-1 until indexed): saves it a second hash lookup per change */
  indexSlot = -1;

  constructor(
    readonly cm: CompiledModel,
    readonly id: string,
    now: number,
  ) {
    this.createdAt = now;
    this.updatedAt = now;
  }

  get model(): string {
    return this.cm.name;
  }
}
