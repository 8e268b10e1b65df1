/**
 * Every alert of the cluster as one node knows it: those of its own partitions and those fanned
 * out by the others, ordered by id (ids sort by time, then sequence), bounded, without duplicates.
 */
import { queryAlerts, type AlertFilter } from '../engine/alert-filter.js';
import type { AlertRecord } from '../engine/types.js';
import { MAX_ALERTS } from '../engine/alert-log.js';

export class AlertIndex {
  /** oldest first */
  private list: AlertRecord[] = [];
  private byId = new Map<string, AlertRecord>();
  private byTwin = new Map<string, string[]>();

  constructor(private readonly max = MAX_ALERTS) {}

  /** Adds an alert, or a later lifecycle change of one (a higher `rev`); returns false when nothing was new. */
  add(a: AlertRecord): boolean {
    const known = this.byId.get(a.id);
    if (known) {
      if ((a.rev ?? 0) > (known.rev ?? 0)) {
        Object.assign(known, a);
        return true;
      }
      if (a.acknowledged) known.acknowledged = true;
      return false;
    }
    const rec = { ...a };
    this.byId.set(a.id, rec);
    let i = this.list.length;
    if (i && this.list[i - 1]!.id > a.id) {
      // arrived late (a snapshot, or another node's clock): insert in order
      let lo = 0;
      let hi = this.list.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (this.list[mid]!.id < a.id) lo = mid + 1;
        else hi = mid;
      }
      i = lo;
    }
    this.list.splice(i, 0, rec);
    const k = a.model + '/' + a.twinId;
    let ids = this.byTwin.get(k);
    if (!ids) this.byTwin.set(k, (ids = []));
    ids.push(a.id);
    if (ids.length > 20) ids.shift();
    if (this.list.length > this.max * 1.1) {
      for (const d of this.list.splice(0, this.list.length - this.max)) this.byId.delete(d.id);
    }
    return true;
  }

  get(id: string): AlertRecord | undefined {
    return this.byId.get(id);
  }

  acknowledge(id: string): AlertRecord | undefined {
    const a = this.byId.get(id);
    if (a) a.acknowledged = true;
    return a;
  }

  forTwin(model: string, id: string, limit: number): AlertRecord[] {
    const ids = this.byTwin.get(model + '/' + id);
    if (!ids) return [];
    const out: AlertRecord[] = [];
    for (let i = ids.length - 1; i >= 0 && out.length < limit; i--) {
      const a = this.byId.get(ids[i]!);
      if (a) out.push(a);
    }
    return out;
  }

  /** Newest first. */
  query(f: AlertFilter): AlertRecord[] {
    return queryAlerts(this.list, f);
  }

  get size(): number {
    return this.list.length;
  }
}

/** The partition that raised an alert, from the tag its engine puts at the end of alert ids. */
export function alertPartition(id: string): number | undefined {
  const m = /p([0-9a-z]{2})$/.exec(id);
  return m ? parseInt(m[1]!, 36) : undefined;
}

/** The tag a partition's engine appends to its alert ids. */
export function partitionTag(p: number): string {
  return 'p' + p.toString(36).padStart(2, '0');
}
