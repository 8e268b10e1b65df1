/**
 * The context a model sees while one batch of one twin runs. Effects (alerts, commands, messages
 * to other twins, timer changes, removals) are buffered and applied only if the batch succeeds.
 */
import {
  HextwinError,
  isModelName,
  isTwinId,
  type AggregateGroup,
  type AlertInput,
  type JsonValue,
  type LogLevel,
  type MessageOrigin,
  type SendOptions,
  type ReferenceRow,
  type SharedData,
  type TimerMode,
  type TwinContext,
  Severity,
} from '@hextwin/shared';
import type { Twin } from './twin.js';

export const MAX_TIMERS_PER_TWIN = 16;

/** Buffered effects of one batch; each list exists only once something was added (most batches add nothing). */
export interface Effects {
  /** raises, and clears of a type, in the order the model asked */
  alerts: (AlertInput | AlertClear)[] | null;
  commands: JsonValue[] | null;
  messages: { model: string; id: string; message: JsonValue; create?: false }[] | null;
  removals: { model: string; id: string }[] | null;
  /** name → { ms, mode } to start, or null to stop */
  timers: Map<string, { ms: number; mode: TimerMode } | null> | null;
  logs: { level: LogLevel; text: string }[] | null;
}

export interface AlertClear {
  clear: string;
}

export const MAX_ALERT_TYPE = 128;
const checkType = (what: string, type: unknown): void => {
  if (typeof type !== 'string' || type.length === 0 || type.length > MAX_ALERT_TYPE)
    throw new HextwinError('BAD_REQUEST', `${what}: an alarm type must be a string of 1 to ${MAX_ALERT_TYPE} characters`);
};

export interface ContextHost {
  now(): number;
  hasModel(model: string): boolean;
  /** `ctx.aggregate`: the feedback's latest result (see AggregateSource) */
  aggregate(model: string, name: string, key: JsonValue | undefined, byKey: boolean): AggregateGroup[] | AggregateGroup | undefined;
}

/** Where the latest results of declared aggregates come from (the index's feedback, index/feedback.ts). */
export interface AggregateSource {
  get(model: string, name: string, key: JsonValue | undefined, byKey: boolean): AggregateGroup[] | AggregateGroup | undefined;
}

const SEVERITIES = new Set(Object.values(Severity));

export class BatchContext implements TwinContext {
  readonly effects: Effects = { alerts: null, commands: null, messages: null, removals: null, timers: null, logs: null };

  constructor(
    private readonly host: ContextHost,
    private readonly twin: Twin,
    readonly from: MessageOrigin,
  ) {}

  get model(): string {
    return this.twin.cm.name;
  }
  get id(): string {
    return this.twin.id;
  }
  get shared(): SharedData {
    return this.twin.cm.shared;
  }
  get reference(): ReferenceRow | undefined {
    return this.twin.cm.reference?.get(this.twin.id);
  }
  now(): number {
    return this.host.now();
  }
  sendToSource(command: JsonValue): void {
    (this.effects.commands ??= []).push(command);
  }
  sendToTwin(model: string, id: string, message: JsonValue, options?: SendOptions): void {
    if (!this.host.hasModel(model)) throw new HextwinError('UNKNOWN_MODEL', `sendToTwin: no model named "${model}"`);
    if (typeof id !== 'string' || !isTwinId(id)) throw new HextwinError('INVALID_ID', `sendToTwin: invalid twin id ${JSON.stringify(id)}`);
    (this.effects.messages ??= []).push(options?.create === false ? { model, id, message, create: false } : { model, id, message });
  }
  alert(alert: AlertInput): void {
    if (!SEVERITIES.has(alert.severity)) throw new HextwinError('BAD_REQUEST', `alert: unknown severity ${JSON.stringify(alert.severity)}`);
    if (alert.type !== undefined) checkType('alert', alert.type);
    (this.effects.alerts ??= []).push(alert);
  }
  clearAlert(type: string): void {
    checkType('clearAlert', type);
    (this.effects.alerts ??= []).push({ clear: type });
  }
  log(level: LogLevel, text: string): void {
    (this.effects.logs ??= []).push({ level, text });
  }
  startTimer(name: string, ms: number, mode: TimerMode = 'once'): void {
    if (!(ms >= 0) || !Number.isFinite(ms)) throw new HextwinError('BAD_REQUEST', `startTimer(${name}): ms must be a finite number >= 0`);
    if (mode === 'recurring' && ms < 1) throw new HextwinError('BAD_REQUEST', `startTimer(${name}): a recurring timer needs ms >= 1`);
    const existing = (this.twin.timers?.size ?? 0) + [...(this.effects.timers?.values() ?? [])].filter((t) => t !== null).length;
    if (!this.hasTimer(name) && existing >= MAX_TIMERS_PER_TWIN) {
      throw new HextwinError('TIMER_LIMIT', `a twin may have at most ${MAX_TIMERS_PER_TWIN} timers`);
    }
    (this.effects.timers ??= new Map()).set(name, { ms, mode });
  }
  stopTimer(name: string): void {
    (this.effects.timers ??= new Map()).set(name, null);
  }
  hasTimer(name: string): boolean {
    const pending = this.effects.timers?.get(name);
    if (pending !== undefined) return pending !== null;
    return this.twin.timers?.has(name) ?? false;
  }
  aggregate(name: string): AggregateGroup[];
  aggregate(name: string, key: JsonValue): AggregateGroup | undefined;
  aggregate(name: string, key?: JsonValue): AggregateGroup[] | AggregateGroup | undefined {
    return this.host.aggregate(this.twin.cm.name, name, key, arguments.length > 1);
  }
  removeTwin(model: string, id: string): void {
    if (!isModelName(model)) throw new HextwinError('INVALID_ID', `removeTwin: invalid model name ${JSON.stringify(model)}`);
    (this.effects.removals ??= []).push({ model, id });
  }
}
