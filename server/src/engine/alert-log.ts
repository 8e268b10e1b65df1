/** Alerts: kept durably (bounded), newest queryable first, with per-twin recent ids on the twin. */
import { queryAlerts, type AlertFilter } from './alert-filter.js';
import type { JsonValue, Severity } from '@hextwin/shared';
import type { AlertRecord } from './types.js';
import type { DurableTable } from '../store/store.js';

export const MAX_ALERTS = 50_000;

export class AlertLog {
  /** oldest first */
  private list: AlertRecord[] = [];
  private byId = new Map<string, AlertRecord>();
  private seq = 0;

  constructor(
    private readonly table: DurableTable<AlertRecord>,
    private readonly nodeTag: string,
  ) {}

  restore(): void {
    for (const [, a] of this.table.entries()) {
      this.list.push(a);
      this.byId.set(a.id, a);
    }
    this.list.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const last = this.list[this.list.length - 1];
    if (last) this.seq = parseInt(last.id.slice(9, 15), 36) + 1 || 0;
  }

  /** Ids sort by time, then by sequence. */
  nextId(at: number): string {
    const t = Math.max(0, Math.floor(at)).toString(36).padStart(9, '0').slice(-9);
    const s = (this.seq++ % 36 ** 6).toString(36).padStart(6, '0');
    return t + s + this.nodeTag;
  }

  /** A new alert, stored. */
  raise(model: string, twinId: string, severity: Severity, title: string, message: string | null, data: JsonValue | null, at: number): AlertRecord {
    const a: AlertRecord = { id: this.nextId(at), model, twinId, severity, title, message, at, acknowledged: false, data };
    this.add(a);
    return a;
  }

  add(a: AlertRecord): void {
    this.list.push(a);
    this.byId.set(a.id, a);
    this.table.put(a.id, a);
    if (this.list.length > MAX_ALERTS * 1.1) {
      const drop = this.list.splice(0, this.list.length - MAX_ALERTS);
      for (const d of drop) {
        this.byId.delete(d.id);
        this.table.delete(d.id);
      }
    }
  }

  get(id: string): AlertRecord | undefined {
    return this.byId.get(id);
  }

  acknowledge(id: string): AlertRecord | undefined {
    const a = this.byId.get(id);
    if (!a) return undefined;
    if (!a.acknowledged) {
      a.acknowledged = true;
      this.table.put(a.id, a);
    }
    return a;
  }

  /** Newest first. */
  query(f: AlertFilter): AlertRecord[] {
    return queryAlerts(this.list, f);
  }
}
