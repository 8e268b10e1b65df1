/**
 * Commands for devices, kept durably until the device acknowledges them (REST pull, WebSocket
 * cmd-ack, or an MQTT publish the broker confirmed). Bounded per twin: the oldest go first.
 */
import { keyString } from '@hextwin/shared';
import type { CommandRecord } from './types.js';
import type { DurableTable } from '../store/store.js';

export const MAX_COMMANDS_PER_TWIN = 100;

export class CommandQueue {
  private byTwin = new Map<string, CommandRecord[]>();
  private seq = 0;
  dropped = 0;

  constructor(private readonly table: DurableTable<CommandRecord>) {}

  private static tkey(model: string, id: string): string {
    return keyString(model, id);
  }

  restore(): void {
    for (const [, c] of this.table.entries()) {
      const k = CommandQueue.tkey(c.model, c.id);
      let l = this.byTwin.get(k);
      if (!l) this.byTwin.set(k, (l = []));
      l.push(c);
      const n = parseInt(c.cid.slice(1), 36);
      if (n >= this.seq) this.seq = n + 1;
    }
    for (const l of this.byTwin.values()) l.sort((a, b) => (a.cid < b.cid ? -1 : 1));
  }

  add(model: string, id: string, command: CommandRecord['command'], at: number): CommandRecord {
    const rec: CommandRecord = { cid: 'c' + (this.seq++).toString(36).padStart(10, '0'), model, id, command, at };
    const k = CommandQueue.tkey(model, id);
    let l = this.byTwin.get(k);
    if (!l) this.byTwin.set(k, (l = []));
    l.push(rec);
    this.table.put(k + '\u0000' + rec.cid, rec);
    while (l.length > MAX_COMMANDS_PER_TWIN) {
      const old = l.shift()!;
      this.table.delete(k + '\u0000' + old.cid);
      this.dropped++;
    }
    return rec;
  }

  pending(model: string, id: string): CommandRecord[] {
    return [...(this.byTwin.get(CommandQueue.tkey(model, id)) ?? [])];
  }

  /** Remove all, or the listed ids; returns how many were removed. */
  ack(model: string, id: string, cids?: string[]): number {
    const k = CommandQueue.tkey(model, id);
    const l = this.byTwin.get(k);
    if (!l) return 0;
    const drop = cids ? new Set(cids) : null;
    const keep: CommandRecord[] = [];
    let n = 0;
    for (const c of l) {
      if (!drop || drop.has(c.cid)) {
        this.table.delete(k + '\u0000' + c.cid);
        n++;
      } else keep.push(c);
    }
    if (keep.length) this.byTwin.set(k, keep);
    else this.byTwin.delete(k);
    return n;
  }

  /** Forget a removed twin's commands. */
  dropTwin(model: string, id: string): void {
    this.ack(model, id);
  }
}
