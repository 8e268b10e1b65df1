/**
 * The simulation runner: the instances of simulation models (models that declare `simulate`),
 * stepped on the engine's clock. Each instance has its own state and its next step time in one
 * indexed heap; one clock wake-up is armed for the earliest. The steps due at the same moment run
 * together and their telemetry enters the engine as one ingest, stamped with the clock, so the
 * real-time twins' timers (on the same clock) fire between steps exactly as they would live.
 *
 * Messages back to an instance: a command its real-time twin sends to its source
 * (`ctx.sendToSource`), or another instance's `ctx.emit(message, { model, id })`, goes to the
 * simulation model's `process` and wakes an instance that waits indefinitely.
 */
import {
  HextwinError,
  type JsonValue,
  type LogLevel,
  type ModelDefinition,
  type ReferenceRow,
  type SimulationContext,
  type TwinContext,
} from '@hextwin/shared';
import type { Logger } from 'pino';
import type { Clock } from '../engine/clock.js';
import { loadReferenceFile } from '../engine/reference-data.js';
import { TimerHeap, type TimerEntry } from '../engine/timer-heap.js';
import type { EngineApi, Envelope } from '../engine/types.js';
import { paddedId } from './fleet.js';

export const DEFAULT_STEP_MS = 60_000;
/** The connector name simulated telemetry carries (and commands to it come back by). */
export const SIMULATION_CONNECTOR = 'simulation';

export interface SimulationOptions {
  engine: EngineApi;
  clock: Clock;
  /** simulation models (the others are left out) */
  models: ModelDefinition[];
  logger: Logger;
  /** the clock's speed, for the status (Infinity: as fast as the steps allow) */
  speed?: number;
  /** end after this much simulated time (default: when every instance is gone or one stops it) */
  durationMs?: number;
  /** where relative instance files resolve */
  baseDir?: string;
  /** called once when the simulation ends */
  onEnd?: () => void;
}

/** `simulation { running speed simTime instances }` and the rest of the progress. */
export interface SimulationStatus {
  running: boolean;
  speed: number;
  /** the simulation clock, epoch ms */
  simTime: number;
  instances: number;
  startTime: number;
  /** when it ended, or when it is planned to (start + duration), or null */
  endTime: number | null;
  /** 0..1 of the planned duration, null without one */
  progress: number | null;
  steps: number;
  emitted: number;
  errors: number;
}

interface Instance {
  readonly def: ModelDefinition;
  readonly id: string;
  state: unknown;
  entry: TimerEntry<Instance> | null;
  removed: boolean;
  reference: ReferenceRow | undefined;
}

interface Step {
  /** the step's simulated time */
  at: number;
  next: number | null | undefined;
  remove: boolean;
}

export class Simulation {
  private readonly defs = new Map<string, ModelDefinition>();
  private readonly instances = new Map<string, Instance>();
  private readonly heap = new TimerHeap<Instance>();
  private readonly log: Logger;
  private readonly ctx: StepContext;
  private wake: (() => void) | null = null;
  private wakeAt = Infinity;
  private busy: Promise<void> | null = null;
  private again = false;
  private ended = false;
  private started = false;
  private startTime = 0;
  private endedAt: number | null = null;
  private steps = 0;
  private emitted = 0;
  private errors = 0;
  private pending: Envelope[] = [];
  private readonly unsubscribe: () => void;

  constructor(private readonly o: SimulationOptions) {
    this.log = o.logger.child({ part: 'simulation' });
    for (const m of o.models) if (typeof m.simulate === 'function') this.defs.set(m.name, m);
    this.ctx = new StepContext(this);
    this.unsubscribe = o.engine.on('command', ({ record }) => this.onCommand(record.model, record.id, record.cid, record.command));
  }

  /** Creates the instances the models declare and arms the first steps at the current clock time. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.startTime = this.o.clock.now();
    for (const def of this.defs.values()) {
      const spec = def.simulation ?? { instances: 1 };
      if (typeof spec.instances === 'number') {
        for (let i = 0; i < spec.instances; i++) this.add(def, paddedId(spec.idPrefix ?? def.name, i, spec.instances), undefined);
      } else if (typeof spec.instances === 'string') {
        const { rows } = loadReferenceFile({ file: spec.instances, idField: spec.idField }, this.o.baseDir ?? process.cwd());
        for (const [id, row] of rows) this.add(def, id, undefined, row);
      } else {
        for (const id of spec.instances) this.add(def, id, undefined);
      }
    }
    if (this.o.durationMs !== undefined) this.o.clock.wakeAt(this.startTime + this.o.durationMs, () => this.end('duration reached'));
    this.log.info({ models: [...this.defs.keys()], instances: this.instances.size, speed: this.o.speed ?? 1 }, 'simulation started');
    this.arm();
  }

  /** Ends the simulation now: no more steps. */
  stop(): void {
    this.end('stopped');
  }

  get status(): SimulationStatus {
    const now = this.o.clock.now();
    const planned = this.o.durationMs !== undefined ? this.startTime + this.o.durationMs : null;
    return {
      running: this.started && !this.ended,
      speed: this.o.speed ?? 1,
      simTime: now,
      instances: this.instances.size,
      startTime: this.startTime,
      endTime: this.endedAt ?? planned,
      progress: this.o.durationMs ? Math.min(1, (now - this.startTime) / this.o.durationMs) : null,
      steps: this.steps,
      emitted: this.emitted,
      errors: this.errors,
    };
  }

  /** Resolves once the steps started so far have run and their telemetry is ingested. */
  async idle(): Promise<void> {
    while (this.busy) await this.busy;
  }

  state<S = unknown>(model: string, id: string): S | undefined {
    return this.instances.get(key(model, id))?.state as S | undefined;
  }

  now(): number {
    return this.o.clock.now();
  }

  isSimulationModel(model: string): boolean {
    return this.defs.has(model);
  }

  // ------------------------------------------------------------ used by the step context

  /** @internal */ emit(from: Instance, message: JsonValue, to: { model: string; id: string } | undefined): void {
    const model = to?.model ?? from.def.simulation?.target ?? from.def.name;
    const id = to?.id ?? from.id;
    const target = this.defs.has(model) ? this.instances.get(key(model, id)) : undefined;
    if (this.defs.has(model)) {
      if (target) this.deliver(target, [message], { kind: 'twin', model: from.def.name, id: from.id });
      return;
    }
    this.pending.push({ model, id, message });
    this.emitted++;
  }

  /** @internal */ create(model: string, id: string, init: Record<string, JsonValue> | undefined): void {
    const def = this.defs.get(model);
    if (!def) throw new HextwinError('INVALID_EFFECT', `createTwin: ${model} is not a simulation model of this simulation`);
    if (this.instances.has(key(model, id))) throw new HextwinError('INVALID_EFFECT', `createTwin: ${model}/${id} already exists`);
    this.add(def, id, init);
  }

  /** @internal */ end(reason: string): void {
    if (this.ended) return;
    this.ended = true;
    this.endedAt = this.o.clock.now();
    this.wake?.();
    this.wake = null;
    this.unsubscribe();
    this.log.info({ reason, steps: this.steps, emitted: this.emitted, instances: this.instances.size }, 'simulation ended');
    this.o.onEnd?.();
  }

  /** @internal */ logLine(inst: Instance, level: LogLevel, text: string): void {
    this.log[level]({ model: inst.def.name, id: inst.id }, text);
  }

  // ------------------------------------------------------------ machinery

  private add(def: ModelDefinition, id: string, init: Record<string, JsonValue> | undefined, reference?: ReferenceRow): void {
    const clock = this.o.clock;
    const state = def.init(id, { model: def.name, id, now: () => clock.now(), reference });
    const inst: Instance = {
      def,
      id,
      state: init && state && typeof state === 'object' ? Object.assign(state, init) : (init ?? state),
      entry: null,
      removed: false,
      reference,
    };
    this.instances.set(key(def.name, id), inst);
    inst.entry = this.heap.push(clock.now(), inst, '');
    this.arm();
  }

  private arm(): void {
    if (this.ended || !this.started) return;
    const top = this.heap.peek();
    if (!top) {
      // instances waiting for a message keep the simulation open
      if (!this.busy && this.instances.size === 0) this.end('no instances left');
      return;
    }
    if (this.wake && top.due >= this.wakeAt) return;
    this.wake?.();
    this.wakeAt = top.due;
    this.wake = this.o.clock.wakeAt(top.due, this.onWake);
  }

  private readonly onWake = (): void => {
    this.wake = null;
    this.wakeAt = Infinity;
    if (this.busy) {
      this.again = true;
      return;
    }
    this.busy = this.tick().finally(() => {
      this.busy = null;
      if (this.again) {
        this.again = false;
        this.onWake();
      } else this.arm();
    });
  };

  /** Runs every step due now, then ingests their telemetry as one batch. */
  private async tick(): Promise<void> {
    const now = this.o.clock.now();
    while (!this.ended) {
      const top = this.heap.peek();
      if (!top || top.due > now) break;
      const inst = top.target;
      const at = top.due;
      this.heap.remove(top);
      inst.entry = null;
      // a step runs at its own time, however late the wall clock woke it: the run is the same on any machine
      const step = await this.step(inst, at);
      if (step.remove) this.drop(inst);
      else this.schedule(inst, step.next);
    }
    await this.flush();
  }

  private async step(inst: Instance, now: number): Promise<Step> {
    const step: Step = { at: now, next: undefined, remove: false };
    this.ctx.bind(inst, step);
    try {
      const r = inst.def.simulate!(this.ctx, inst.state, now);
      if (r && typeof (r as Promise<void>).then === 'function') await r;
    } catch (e) {
      this.errors++;
      this.log.warn({ err: e, model: inst.def.name, id: inst.id }, 'simulate threw; the instance steps again after its step time');
    } finally {
      this.ctx.unbind();
    }
    this.steps++;
    if (step.next === undefined) step.next = now + (inst.def.simulation?.stepMs ?? DEFAULT_STEP_MS);
    return step;
  }

  private schedule(inst: Instance, next: number | null | undefined): void {
    if (inst.removed || next === null || next === undefined) return;
    if (inst.entry) this.heap.update(inst.entry, next);
    else inst.entry = this.heap.push(next, inst, '');
  }

  private drop(inst: Instance): void {
    inst.removed = true;
    if (inst.entry) this.heap.remove(inst.entry);
    inst.entry = null;
    this.instances.delete(key(inst.def.name, inst.id));
  }

  private async flush(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      const engine = this.o.engine;
      if (engine.overloaded) await engine.whenAccepting();
      try {
        await engine.ingest(batch, { source: { connector: SIMULATION_CONNECTOR } });
      } catch (e) {
        // one refused message must not end the run; the batch is lost and counted
        this.errors += batch.length;
        this.log.warn({ err: e, messages: batch.length }, 'simulated telemetry refused');
      }
    }
  }

  /** A message for an instance: its model's `process`, then a waiting instance steps at once. */
  private deliver(inst: Instance, messages: JsonValue[], from: TwinContext['from']): void {
    const clock = this.o.clock;
    const ctx = messageContext(this, inst, from, () => clock.now());
    try {
      const r = inst.def.process(ctx, inst.state, messages);
      if (r === 'remove') {
        this.drop(inst);
        return;
      }
    } catch (e) {
      this.errors++;
      this.log.warn({ err: e, model: inst.def.name, id: inst.id }, 'process threw on a message to a simulated instance');
    }
    if (!inst.entry && !inst.removed && !this.ended) {
      inst.entry = this.heap.push(clock.now(), inst, '');
      this.arm();
    } else if (this.pending.length > 0 && !this.ended) {
      // what `process` emitted goes out now, not at the next step
      if (this.busy) this.again = true;
      else this.onWake();
    }
  }

  private onCommand(model: string, id: string, cid: string, command: JsonValue): void {
    for (const def of this.defs.values()) {
      if ((def.simulation?.target ?? def.name) !== model) continue;
      const inst = this.instances.get(key(def.name, id));
      if (!inst) continue;
      this.deliver(inst, [command], { kind: 'twin', model, id });
      // the simulated device took it: it need not wait in the REST pull queue
      void this.o.engine.ackCommands(model, id, [cid]).catch(() => undefined);
    }
  }
}

/** Simulation models step in the Simulation; the engine runs the others as real-time models. */
export function splitModels(models: ModelDefinition[]): { realtime: ModelDefinition[]; simulation: ModelDefinition[] } {
  return { realtime: models.filter((m) => typeof m.simulate !== 'function'), simulation: models.filter((m) => typeof m.simulate === 'function') };
}

function key(model: string, id: string): string {
  return `${model}\u0000${id}`;
}

/** One context object reused for every step (the hot path makes no garbage per step). */
class StepContext implements SimulationContext {
  private inst: Instance | null = null;
  private step: Step | null = null;

  constructor(private readonly sim: Simulation) {}

  bind(inst: Instance, step: Step): void {
    this.inst = inst;
    this.step = step;
  }
  unbind(): void {
    this.inst = null;
    this.step = null;
  }
  private current(): Instance {
    if (!this.inst) throw new HextwinError('INVALID_EFFECT', 'the simulation context is used outside its step');
    return this.inst;
  }
  get model(): string {
    return this.current().def.name;
  }
  get id(): string {
    return this.current().id;
  }
  now(): number {
    return this.step ? this.step.at : this.sim.now();
  }
  emit(message: JsonValue, to?: { model: string; id: string }): void {
    this.sim.emit(this.current(), message, to);
  }
  delay(ms: number): void {
    if (!(ms >= 0) || !Number.isFinite(ms)) throw new HextwinError('INVALID_EFFECT', `delay: ms must be a finite number ≥ 0, got ${ms}`);
    this.current();
    this.step!.next = this.step!.at + ms;
  }
  delayIndefinitely(): void {
    this.current();
    this.step!.next = null;
  }
  createTwin(model: string, id: string, init?: Record<string, JsonValue>): void {
    this.current();
    this.sim.create(model, id, init);
  }
  removeSelf(): void {
    this.current();
    this.step!.remove = true;
  }
  stopSimulation(): void {
    this.current();
    this.sim.end('stopped by a model');
  }
  log(level: LogLevel, text: string): void {
    this.sim.logLine(this.current(), level, text);
  }
}

/** The context `process` sees for a message to a simulated instance: replies go back as emits. */
function messageContext(sim: Simulation, inst: Instance, from: TwinContext['from'], now: () => number): TwinContext {
  const refuse = (what: string) => () => {
    throw new HextwinError('INVALID_EFFECT', `${what} is not available to a simulated instance; use its simulate step`);
  };
  return {
    model: inst.def.name,
    id: inst.id,
    from,
    now,
    sendToSource: refuse('sendToSource'),
    sendToTwin: (model, id, message) => sim.emit(inst, message, { model, id }),
    alert: refuse('alert'),
    clearAlert: refuse('clearAlert'),
    aggregate: refuse('aggregate'),
    log: (level, text) => sim.logLine(inst, level, text),
    startTimer: refuse('startTimer'),
    stopTimer: refuse('stopTimer'),
    hasTimer: () => false,
    removeTwin: refuse('removeTwin'),
    shared: { get: () => undefined, set: refuse('shared'), delete: refuse('shared') },
    reference: inst.reference,
  };
}
