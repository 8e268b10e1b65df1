/**
 * The twins themselves: created on their first message (within the configured limits), located,
 * removed, quarantined. Every way into a twin's mailbox from outside a run goes through `deliver`.
 */
import { HextwinError, toCoded } from '@hextwin/shared';
import type { CompiledModel } from './compiled-model.js';
import type { EngineParts } from './parts.js';
import { Twin, type MailItem } from './twin.js';
import type { Envelope } from './types.js';

export class TwinRegistry {
  /** live twins over all models */
  total = 0;

  constructor(
    private readonly p: EngineParts,
    private readonly maxPerModel: number,
    private readonly maxTotal: number,
  ) {}

  /** Throws TOO_MANY_TWINS when `fresh` more twins of `cm` would pass a limit. */
  checkRoom(cm: CompiledModel, fresh: number): void {
    this.checkTotal(fresh);
    if (this.maxPerModel > 0 && cm.twins.size + fresh > this.maxPerModel) {
      throw new HextwinError('TOO_MANY_TWINS', `model ${cm.name} has ${cm.twins.size} twins, the most it takes is ${this.maxPerModel} (MAX_TWINS_PER_MODEL)`);
    }
  }

  /** Throws TOO_MANY_TWINS when `fresh` more twins in all would pass MAX_TWINS. */
  checkTotal(fresh: number): void {
    if (this.maxTotal > 0 && this.total + fresh > this.maxTotal) {
      throw new HextwinError('TOO_MANY_TWINS', `the server holds ${this.total} twins, the most it takes is ${this.maxTotal} (MAX_TWINS)`);
    }
  }

  /** Whether a batch might create twins past a limit (any of its models): only then is it counted twin by twin. */
  nearLimit(envelopes: readonly Envelope[], models: ReadonlyMap<string, CompiledModel>): boolean {
    const n = envelopes.length;
    if (this.maxTotal > 0 && this.total + n > this.maxTotal) return true;
    if (this.maxPerModel <= 0) return false;
    let last = '';
    for (const e of envelopes) {
      if (e.model === last) continue;
      last = e.model;
      if (models.get(e.model)!.twins.size + n > this.maxPerModel) return true;
    }
    return false;
  }

  getOrCreate(cm: CompiledModel, id: string): Twin {
    let t = cm.twins.get(id);
    if (t) return t;
    this.checkRoom(cm, 1);
    const clock = this.p.clock;
    t = new Twin(cm, id, clock.now());
    t.state = cm.def.init(id, { model: cm.name, id, now: () => clock.now(), reference: cm.reference?.get(id) });
    this.add(cm, t);
    return t;
  }

  add(cm: CompiledModel, t: Twin): void {
    cm.twins.set(t.id, t);
    this.total++;
  }

  /** Into the twin's mailbox, creating the twin on its first message (unless `create` is false: then a missing twin drops it). */
  deliver(cm: CompiledModel, id: string, item: MailItem, create = true): void {
    let t: Twin;
    if (!create && !cm.twins.has(id)) {
      this.p.positions.settleMail(item);
      this.p.metrics.errors.labels('TWIN_NOT_FOUND').inc();
      return;
    }
    try {
      t = this.getOrCreate(cm, id);
    } catch (e) {
      // init threw, or the twin limit is reached: the message cannot be applied; it fails like a throwing batch
      this.reportError(cm.name, id, toCoded(e).code === 'TOO_MANY_TWINS' ? 'TOO_MANY_TWINS' : 'MODEL_ERROR', e);
      if (item.kind === 'msg') cm.failed++;
      this.p.positions.settleMail(item);
      return;
    }
    this.p.scheduler.enqueue(t, item);
  }

  locate(t: Twin): void {
    const loc = t.cm.def.location;
    if (!loc) return;
    let p: { lat: number; lng: number } | undefined;
    try {
      p = loc.call(t.cm.def, t.state as never);
    } catch {
      p = undefined;
    }
    if (p && Number.isFinite(p.lat) && Number.isFinite(p.lng) && Math.abs(p.lat) <= 90 && Math.abs(p.lng) <= 180) {
      t.lat = p.lat;
      t.lng = p.lng;
    } else {
      t.lat = undefined;
      t.lng = undefined;
    }
  }

  removeNow(t: Twin, pos: number): void {
    if (t.removed) return;
    this.p.checkpointer.beforeMutate(t);
    t.removed = true;
    t.cm.twins.delete(t.id);
    this.total--;
    this.p.timers.drop(t);
    this.p.checkpointer.tombstone({ model: t.cm.name, id: t.id, lastPos: Math.max(pos, t.lastPos) });
    this.p.commands.dropTwin(t.cm.name, t.id);
    this.p.events.emit('twinRemoved', { model: t.cm.name, id: t.id, last: t });
  }

  /** Stop running a twin's code; what is queued for it is dropped (and counted) when its run comes. */
  quarantine(t: Twin, code: string, reason: string): void {
    if (t.cm.isQuarantined(t.id)) return;
    const rec = { model: t.cm.name, id: t.id, code, reason, at: Date.now() };
    this.p.quarantine.add(rec);
    t.lastError = { at: this.p.clock.now(), code, message: reason };
    this.p.metrics.errors.labels(code).inc();
    this.p.log.error({ model: t.cm.name, id: t.id, code, reason }, 'twin quarantined: its code will not run until an operator releases it');
    this.p.events.emit('quarantined', rec);
  }

  reportError(model: string, id: string, code: string, error: unknown): void {
    this.p.metrics.errors.labels(code).inc();
    this.p.log.warn({ model, id, code, err: error }, 'model failed; the batch was skipped for this twin');
    this.p.events.emit('modelError', { model, id, code, error });
  }
}
