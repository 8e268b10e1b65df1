/**
 * Runs one twin's mailbox: consecutive messages as one batch handed to `process`, timer firings
 * to `onTimer`, removals in order. Sync models run straight through; a model that returns a
 * promise suspends the twin's run until it settles (or until its time budget ends it with
 * MODEL_TIMEOUT and the twin is quarantined). A batch that throws, returns something else than
 * a result, or asks for an effect that cannot be carried out fails alone: its effects are dropped,
 * `lastError` is set, the twin goes on with its next batch.
 */
import { HextwinError, keyString, parseKeyString, toCoded, type JsonValue, type AlertInput, type MessageOrigin, type ProcessResult } from '@hextwin/shared';
import { snapshot } from './alert-log.js';
import { BatchContext, type AlertClear, type ContextHost } from './context.js';
import { validateEffects } from './effects.js';
import type { EngineParts } from './parts.js';
import type { MailItem, Twin } from './twin.js';
import type { AlertRecord, SourceRef } from './types.js';

type MsgItem = Extract<MailItem, { kind: 'msg' }>;

const RESULTS = new Set<ProcessResult>(['update', 'none', 'remove']);
const TIMER: MessageOrigin = Object.freeze({ kind: 'timer' });
const OPERATOR: MessageOrigin = Object.freeze({ kind: 'operator' });
/** one frozen origin per connector: device batches are the hot path, they allocate none */
const DEVICES = new Map<string, MessageOrigin>();

/** Messages from one sender share a batch: twins by key, everything else by connector. */
const senderOf = (s: SourceRef | null): string =>
  s === null ? '' : s.connector === 'twin' ? (s.connection ?? 'twin') : s.connector === 'graphql' ? 'graphql' : 'device';

function originOf(s: SourceRef | null): MessageOrigin {
  if (s?.connector === 'twin' && s.connection) {
    const k = parseKeyString(s.connection);
    return { kind: 'twin', model: k.model, id: k.id };
  }
  if (s?.connector === 'graphql') return OPERATOR;
  const connector = s?.connector ?? 'unknown';
  let o = DEVICES.get(connector);
  if (!o) DEVICES.set(connector, (o = Object.freeze({ kind: 'device', connector }) as MessageOrigin));
  return o;
}
const isThenable = (v: unknown): v is PromiseLike<unknown> => typeof (v as { then?: unknown } | null)?.then === 'function';

export class BatchRunner {
  private batchSample = 0;

  constructor(
    private readonly p: EngineParts,
    private readonly ctxHost: ContextHost,
  ) {}

  /** The scheduler's entry: take the twin's whole mailbox and run it. */
  readonly runTwin = (t: Twin): void => {
    const items = this.p.scheduler.take(t);
    if (t.cm.isQuarantined(t.id)) {
      this.dropQuarantined(t, items);
      this.p.scheduler.done(t);
      return;
    }
    this.p.checkpointer.beforeMutate(t);
    this.runItems(t, items, 0);
  };

  private dropQuarantined(t: Twin, items: MailItem[]): void {
    for (const it of items) {
      if (it.kind === 'msg') t.cm.failed++;
      this.p.positions.settleMail(it);
      if (it.kind === 'msg' && it.pos > t.lastPos) t.lastPos = it.pos;
    }
    this.p.metrics.errors.labels('TWIN_QUARANTINED').inc(items.length);
  }

  /** Run items[i..] for twin t; suspends when a model returns a promise. */
  private runItems(t: Twin, items: MailItem[], i: number): void {
    while (i < items.length) {
      if (t.removed) {
        // the twin was removed mid-mailbox: what follows goes to a fresh twin, as a first message would
        for (let k = i; k < items.length; k++) {
          const it = items[k]!;
          if (it.kind !== 'timer') this.p.twins.deliver(t.cm, t.id, it);
        }
        break;
      }
      if (t.cm.isQuarantined(t.id)) {
        // quarantined by an earlier batch of this run (a timeout, an unencodable state)
        this.dropQuarantined(t, items.slice(i));
        break;
      }
      const it = items[i]!;
      if (it.kind === 'msg') {
        // one batch: consecutive messages from one sender (a device connector, a twin, an operator)
        const sender = senderOf(it.source);
        let j = i + 1;
        while (j < items.length && items[j]!.kind === 'msg' && j - i < this.p.limits.maxBatch && senderOf((items[j] as MsgItem).source) === sender) j++;
        const batch = (i === 0 && j === items.length ? items : items.slice(i, j)) as MsgItem[];
        if (this.runBatch(t, batch, null, items, j)) return;
        i = j;
      } else if (it.kind === 'timer') {
        i++;
        if (!this.p.timers.take(t, it.name, it.gen)) continue; // stopped or restarted since it was queued
        this.p.checkpointer.markDirty(t);
        if (!t.cm.def.onTimer) continue;
        if (this.runBatch(t, [], it.name, items, i)) return;
      } else {
        i++;
        if (it.pos > t.lastPos) t.lastPos = it.pos;
        this.p.positions.settle(it);
        this.p.twins.removeNow(t, it.pos);
      }
    }
    this.p.scheduler.done(t);
  }

  /**
   * Run one batch (messages, or one timer firing when `timer` is set). Returns true when the model
   * went async: the run resumes at items[next] once it settles.
   */
  private runBatch(t: Twin, batch: MsgItem[], timer: string | null, items: MailItem[], next: number): boolean {
    const ctx = new BatchContext(this.ctxHost, t, timer === null ? originOf(batch[0]!.source) : TIMER);
    const def = t.cm.def;
    const sample = (++this.batchSample & 15) === 0;
    const t0 = sample ? performance.now() : 0;
    const wd = this.p.watchdog;
    let r: ProcessResult | Promise<ProcessResult>;
    wd?.enter(t.cm.name, t.id);
    try {
      if (timer === null) {
        const messages = new Array(batch.length);
        for (let k = 0; k < batch.length; k++) messages[k] = batch[k]!.message;
        r = def.process(ctx, t.state, messages);
      } else r = def.onTimer!.call(def, ctx, t.state, timer);
    } catch (e) {
      wd?.exit();
      this.batchFailed(t, batch, e);
      return false;
    }
    wd?.exit();
    if (isThenable(r)) {
      this.awaitBatch(t, batch, ctx, r, items, next);
      return true;
    }
    if (sample && timer === null) this.p.metrics.batchSeconds.observe((performance.now() - t0) / 1000);
    this.finishBatch(t, batch, ctx, r);
    return false;
  }

  private awaitBatch(t: Twin, batch: MsgItem[], ctx: BatchContext, r: PromiseLike<ProcessResult>, items: MailItem[], next: number): void {
    const cp = this.p.checkpointer;
    cp.asyncRunning.add(t);
    let settled = false;
    const ms = this.p.limits.asyncTimeoutMs;
    const timeout =
      ms > 0
        ? setTimeout(() => {
            if (settled) return;
            settled = true;
            const err = new HextwinError('MODEL_TIMEOUT', `${t.cm.name}/${t.id}: an async batch did not settle within ${ms} ms`);
            this.batchFailed(t, batch, err);
            this.p.twins.quarantine(t, 'MODEL_TIMEOUT', err.message);
            cp.asyncEnded(t, null);
            this.runItems(t, items, next);
          }, ms)
        : null;
    const settle = (fn: () => number[] | null) => {
      if (settled) return; // timed out already: whatever it did later is ignored
      settled = true;
      if (timeout) clearTimeout(timeout);
      let sent: number[] | null = null;
      try {
        sent = fn();
      } catch (e) {
        this.p.log.error({ err: e, model: t.cm.name, id: t.id }, 'finishing an async batch failed');
      }
      cp.asyncEnded(t, sent);
      this.runItems(t, items, next);
    };
    r.then(
      (res) => settle(() => this.finishBatch(t, batch, ctx, res)),
      (e) => settle(() => (this.batchFailed(t, batch, e), null)),
    );
  }

  private settleBatch(t: Twin, batch: MsgItem[]): void {
    const positions = this.p.positions;
    for (let k = 0; k < batch.length; k++) positions.settle(batch[k]!);
    if (batch.length) {
      const last = batch[batch.length - 1]!;
      if (last.pos > t.lastPos) t.lastPos = last.pos;
      if (last.source) t.source = last.source;
    }
    this.p.checkpointer.markDirty(t);
  }

  private batchFailed(t: Twin, batch: MsgItem[], e: unknown): void {
    this.settleBatch(t, batch);
    const coded = toCoded(e);
    const code = coded.code === 'INTERNAL' ? 'MODEL_ERROR' : coded.code;
    const message = e instanceof Error ? e.message : String(e);
    t.lastError = { at: this.p.clock.now(), code, message };
    t.cm.failed += batch.length;
    this.p.twins.reportError(t.cm.name, t.id, code, e);
  }

  /** Apply a successful batch; returns the positions of the twin-to-twin items it sent. */
  private finishBatch(t: Twin, batch: MsgItem[], ctx: BatchContext, result: ProcessResult): number[] | null {
    if (!RESULTS.has(result)) {
      this.batchFailed(t, batch, new HextwinError('MODEL_ERROR', `process returned ${JSON.stringify(result)}; expected 'update', 'none' or 'remove'`));
      return null;
    }
    const fx = ctx.effects;
    try {
      validateEffects(fx);
    } catch (e) {
      this.batchFailed(t, batch, e);
      return null;
    }
    this.settleBatch(t, batch);
    t.cm.applied += batch.length;
    const p = this.p;
    const now = p.clock.now();
    if (fx.logs) for (const l of fx.logs) p.log[l.level]({ model: t.cm.name, id: t.id }, l.text);
    if (fx.timers) for (const [name, spec] of fx.timers) p.timers.set(t, name, spec);
    if (result === 'update') {
      const created = t.version === 0;
      // counts messages, not batches: how a crash replay batches them does not change a version's state
      t.version += batch.length;
      t.updatedAt = now;
      if (t.lastError) t.lastError = null;
      p.twins.locate(t);
      const h = t.cm.def.history;
      if (h !== undefined) p.history.record(t.cm.name, t.id, h, t.state, now);
      p.events.emit('twinChanged', { twin: t, created });
    }
    if (fx.alerts) for (const a of fx.alerts) this.alertEffect(t, a, now);
    if (fx.commands) {
      for (const c of fx.commands) p.events.emit('command', { record: p.commands.add(t.cm.name, t.id, c, now), source: t.source });
    }
    let sent: number[] | null = null;
    if (fx.messages || fx.removals) {
      let hops = 0;
      for (let k = 0; k < batch.length; k++) if (batch[k]!.hops > hops) hops = batch[k]!.hops;
      hops++;
      if (hops > p.limits.maxHops) {
        const err = new HextwinError('MESSAGE_LOOP', `twin-to-twin chain from ${t.cm.name}/${t.id} exceeded ${p.limits.maxHops} hops; messages dropped`);
        t.lastError = { at: now, code: err.code, message: err.message };
        p.twins.reportError(t.cm.name, t.id, err.code, err);
      } else {
        sent = [];
        const source: SourceRef = { connector: 'twin', connection: keyString(t.cm.name, t.id) };
        if (fx.messages) for (const m of fx.messages) sent.push(this.sendInternal(m.model, m.id, m.message, hops, source, m.create));
        if (fx.removals) for (const r of fx.removals) this.removeInternal(r.model, r.id, hops, sent);
      }
    }
    if (result === 'remove') p.twins.removeNow(t, t.lastPos);
    return sent;
  }

  /**
   * A raise (a new alarm, or a repeat of the twin's active alarm of its type) or a clear of a type:
   * the alarm it changed (undefined when a clear found none active). Models reach it through their
   * effects, other features (geofences) through `Engine.raiseAlert` / `clearAlertByType`.
   */
  alertEffect(t: Twin, a: AlertInput | AlertClear, at: number): AlertRecord | undefined {
    const alerts = this.p.alerts;
    if ('clear' in a) {
      const cleared = alerts.clearType(t.cm.name, t.id, a.clear, at);
      if (cleared) this.p.events.emit('alert', snapshot(cleared));
      return cleared;
    }
    const alarm = alerts.raise(
      t.cm.name,
      t.id,
      { severity: a.severity, title: a.title, message: a.message ?? null, data: a.data ?? null, type: a.type ?? null },
      at,
    );
    if (alarm.change === 'RAISE') {
      if (!t.alertIds) t.alertIds = [];
      t.alertIds.push(alarm.id);
      if (t.alertIds.length > 20) t.alertIds.shift();
    }
    this.p.events.emit('alert', snapshot(alarm));
    return alarm;
  }

  /** A twin-to-twin message: a position, then the receiver's mailbox (or the outbox when it lives elsewhere). */
  sendInternal(model: string, id: string, message: MsgItem['message'], hops: number, source: SourceRef | null, create?: false): number {
    const p = this.p;
    const envelope = { model, id, message: message as never };
    const pos = p.positions.addInternal(create === false ? { envelope, hops, source, create } : { envelope, hops, source });
    if (p.route && !p.route.isLocal(model, id)) {
      p.positions.outbox.push(pos);
      p.checkpointer.scheduleForward();
      return pos;
    }
    p.twins.deliver(p.compiled.get(model)!, id, { kind: 'msg', pos, message, hops, rec: null, source }, create !== false);
    return pos;
  }

  private removeInternal(model: string, id: string, hops: number, sent: number[]): void {
    const p = this.p;
    const cm = p.compiled.get(model);
    if (!cm) return;
    const remote = p.route && !p.route.isLocal(model, id);
    const t = remote ? undefined : cm.twins.get(id);
    if (!remote && !t) return;
    const pos = p.positions.addInternal({ envelope: { model, id, message: null }, control: 'remove', hops, source: null });
    sent.push(pos);
    if (remote) {
      p.positions.outbox.push(pos);
      p.checkpointer.scheduleForward();
      return;
    }
    p.scheduler.enqueue(t!, { kind: 'remove', pos, rec: null });
  }
}
