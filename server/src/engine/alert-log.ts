/**
 * Alarms: kept durably (bounded, oldest dropped first), newest raised first in queries. A typed
 * alarm is de-duplicated per (model, twin, type) while ACTIVE; see AlertRecord for the lifecycle.
 * Every change stores the alarm again and returns it; the engine emits a copy (`snapshot`) so a
 * subscriber queued behind later changes still sees the change it was told about.
 */
import { SEVERITY_RANK, type JsonValue, type Severity } from '@hextwin/shared';
import { queryAlerts, type AlertFilter } from './alert-filter.js';
import type { Alarm, AlarmChange, AlertRecord } from './types.js';
import type { DurableTable } from '../store/store.js';

export const MAX_ALERTS = 50_000;
export const MAX_ALARM_COMMENTS = 20;

export interface RaiseInput {
  severity: Severity;
  title: string;
  message: string | null;
  data: JsonValue | null;
  type: string | null;
}

/** `a` with the lifecycle of a record stored before it existed filled in (in place). */
export function alarmOf(a: AlertRecord): Alarm {
  a.type ??= null;
  a.status ??= 'ACTIVE';
  a.count ??= 1;
  a.firstAt ??= a.at;
  a.lastAt ??= a.at;
  a.clearedAt ??= null;
  a.assignee ??= null;
  a.comments ??= [];
  a.change ??= 'RAISE';
  a.rev ??= 0;
  return a as Alarm;
}

/** A copy of the alarm as it is now (comments are replaced, never changed in place, so they are shared). */
export const snapshot = (a: Alarm): Alarm => ({ ...a });

const activeKey = (model: string, twinId: string, type: string) => model + '/' + twinId + '\u0001' + type;

export class AlertLog {
  /** oldest first */
  private list: Alarm[] = [];
  private byId = new Map<string, Alarm>();
  /** the ACTIVE typed alarm of each (model, twin, type) */
  private active = new Map<string, Alarm>();
  private seq = 0;

  constructor(
    private readonly table: DurableTable<AlertRecord>,
    private readonly nodeTag: string,
  ) {}

  restore(): void {
    for (const [, rec] of this.table.entries()) {
      const a = alarmOf(rec);
      this.list.push(a);
      this.byId.set(a.id, a);
    }
    this.list.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    for (const a of this.list) if (a.type !== null && a.status === 'ACTIVE') this.active.set(activeKey(a.model, a.twinId, a.type), a);
    const last = this.list[this.list.length - 1];
    if (last) this.seq = parseInt(last.id.slice(9, 15), 36) + 1 || 0;
  }

  /** Ids sort by time, then by sequence. */
  nextId(at: number): string {
    const t = Math.max(0, Math.floor(at)).toString(36).padStart(9, '0').slice(-9);
    const s = (this.seq++ % 36 ** 6).toString(36).padStart(6, '0');
    return t + s + this.nodeTag;
  }

  /**
   * A model raised an alert: a new alarm (RAISE), or a repeat of the twin's active alarm of that
   * type (REPEAT, or SEVERITY when the severity changed; an escalation needs a new acknowledgement).
   */
  raise(model: string, twinId: string, input: RaiseInput, at: number): Alarm {
    const open = input.type === null ? undefined : this.active.get(activeKey(model, twinId, input.type));
    if (open) {
      const escalated = SEVERITY_RANK[input.severity] > SEVERITY_RANK[open.severity];
      const change: AlarmChange = input.severity === open.severity ? 'REPEAT' : 'SEVERITY';
      open.severity = input.severity;
      open.title = input.title;
      open.message = input.message;
      open.data = input.data;
      open.count++;
      open.lastAt = at;
      if (escalated) open.acknowledged = false;
      return this.changed(open, change);
    }
    const a: Alarm = {
      id: this.nextId(at),
      model,
      twinId,
      severity: input.severity,
      title: input.title,
      message: input.message,
      at,
      acknowledged: false,
      data: input.data,
      type: input.type,
      status: 'ACTIVE',
      count: 1,
      firstAt: at,
      lastAt: at,
      clearedAt: null,
      assignee: null,
      comments: [],
      change: 'RAISE',
      rev: 0,
    };
    this.add(a);
    if (a.type !== null) this.active.set(activeKey(model, twinId, a.type), a);
    return a;
  }

  /** A model cleared its alarm of `type`: the cleared alarm, or undefined when none was active. */
  clearType(model: string, twinId: string, type: string, at: number): Alarm | undefined {
    const a = this.active.get(activeKey(model, twinId, type));
    return a ? this.clear(a, at) : undefined;
  }

  /** An operator cleared an alarm; undefined when unknown, the alarm unchanged when already cleared. */
  clearById(id: string, at: number): { alarm: Alarm; changed: boolean } | undefined {
    const a = this.byId.get(id);
    if (!a) return undefined;
    if (a.status === 'CLEARED') return { alarm: a, changed: false };
    return { alarm: this.clear(a, at), changed: true };
  }

  private clear(a: Alarm, at: number): Alarm {
    a.status = 'CLEARED';
    a.clearedAt = at;
    if (a.type !== null) this.active.delete(activeKey(a.model, a.twinId, a.type));
    return this.changed(a, 'CLEAR');
  }

  add(rec: AlertRecord): void {
    const a = alarmOf(rec);
    this.list.push(a);
    this.byId.set(a.id, a);
    this.table.put(a.id, a);
    if (this.list.length > MAX_ALERTS * 1.1) {
      const drop = this.list.splice(0, this.list.length - MAX_ALERTS);
      for (const d of drop) {
        this.byId.delete(d.id);
        this.table.delete(d.id);
        if (d.type !== null && this.active.get(activeKey(d.model, d.twinId, d.type)) === d) this.active.delete(activeKey(d.model, d.twinId, d.type));
      }
    }
  }

  get(id: string): Alarm | undefined {
    return this.byId.get(id);
  }

  /** The alarm, and whether this call acknowledged it (false when it already was). */
  acknowledge(id: string): { alarm: Alarm; changed: boolean } | undefined {
    const a = this.byId.get(id);
    if (!a) return undefined;
    if (a.acknowledged) return { alarm: a, changed: false };
    a.acknowledged = true;
    return { alarm: this.changed(a, 'ACK'), changed: true };
  }

  /** null unassigns. */
  assign(id: string, assignee: string | null): Alarm | undefined {
    const a = this.byId.get(id);
    if (!a) return undefined;
    a.assignee = assignee;
    return this.changed(a, 'ASSIGN');
  }

  comment(id: string, author: string, text: string, at: number): Alarm | undefined {
    const a = this.byId.get(id);
    if (!a) return undefined;
    a.comments = [...a.comments, { at, author, text }].slice(-MAX_ALARM_COMMENTS);
    return this.changed(a, 'COMMENT');
  }

  private changed(a: Alarm, change: AlarmChange): Alarm {
    a.change = change;
    a.rev++;
    this.table.put(a.id, a);
    return a;
  }

  /** Newest raised first. */
  query(f: AlertFilter): AlertRecord[] {
    return queryAlerts(this.list, f);
  }
}
