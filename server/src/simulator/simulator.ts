/**
 * The simulator: paces the world's messages at a target rate through a Sender, stamps them with
 * the simulation clock, applies scenarios on demand, and hands commands from twins back to the
 * simulated devices.
 */
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { WireEnvelope } from './fleet.js';
import { Mixer } from './mixer.js';
import { Random } from './random.js';
import type { ScenarioEffect } from './scenarios/index.js';
import { findScenario } from './scenarios/index.js';
import type { Sender, SenderStats } from './sender.js';
import { SimClock } from './sim-clock.js';
import type { World } from './world.js';

export interface SimulatorOptions {
  world: World;
  sender: Sender;
  /** messages per second of real time */
  rate: number;
  /** simulated seconds per real second (default 1) */
  speed?: number;
  /** event time of the first message, epoch ms (default: now) */
  start?: number;
  /** messages per frame (default 100) */
  batch?: number;
  /** stop after this much real time (default: run until stop()) */
  durationMs?: number;
  /** stop after this many regular messages */
  maxMessages?: number;
  /** scenarios to trigger when that many regular messages have been made (default: once setup messages are out) */
  scenarios?: { name: string; atMessage?: number }[];
  logger: Logger;
}

export interface SimulatorStats extends SenderStats {
  /** regular messages made so far (scenario messages come on top) */
  produced: number;
  elapsedMs: number;
  /** the simulation's current event time, epoch ms */
  eventTime: number;
}

/** How far behind schedule the simulator may fall before it gives up catching up (a burst would follow). */
const MAX_LAG_MS = 1_000;
/** the longest a due message waits for its batch to fill */
const MAX_HOLD_MS = 50;

export class Simulator {
  readonly clock: SimClock;
  private readonly mixer: Mixer;
  private readonly batch: number;
  private readonly urgent: WireEnvelope[] = [];
  private readonly log: Logger;
  private produced = 0;
  private triggered = 0;
  private stopped = false;
  private startedAt = 0;
  private running: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  private readonly scheduled: { name: string; at: number }[];

  constructor(private readonly options: SimulatorOptions) {
    this.clock = new SimClock(options.start ?? Date.now(), options.rate, options.speed ?? 1);
    this.mixer = new Mixer(options.world.fleets);
    this.batch = Math.max(1, options.batch ?? 100);
    this.log = options.logger;
    for (const s of options.scenarios ?? []) findScenario(s.name);
    this.scheduled = (options.scenarios ?? []).map((s) => ({ name: s.name, at: s.atMessage ?? this.mixer.setupSize })).sort((a, b) => a.at - b.at);
    options.sender.onCommand((c) => options.world.fleet(c.model)?.onCommand?.(c.id, c.command, this.eventTime()));
  }

  /** The event time of the next message. */
  eventTime(): number {
    return this.clock.at(this.produced);
  }

  get stats(): SimulatorStats {
    return {
      ...this.options.sender.stats,
      produced: this.produced,
      elapsedMs: this.startedAt ? performance.now() - this.startedAt : 0,
      eventTime: this.eventTime(),
    };
  }

  /** Runs until the duration or message count is reached or stop() is called, then waits for the last acks. */
  run(): Promise<void> {
    this.running ??= this.loop();
    return this.running;
  }

  /** Stops making messages and waits up to `graceMs` for the last acks; close the sender afterwards. */
  async stop(graceMs = 5_000): Promise<void> {
    this.stopped = true;
    this.wakeUp?.();
    if (!this.running) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.running.catch(() => undefined), new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
  }

  /**
   * Applies a scenario now: its messages go out ahead of the regular stream. Each trigger draws
   * from its own stream of the seed, so a run that triggers the same scenarios after the same
   * number of messages is the same run.
   */
  trigger(name: string): ScenarioEffect {
    const scenario = findScenario(name);
    const rng = Random.derive(this.options.world.seed, `scenario/${this.triggered++}/${name}`);
    const effect = scenario.apply(this.options.world, this.eventTime(), rng);
    this.urgent.push(...effect.messages);
    this.log.info({ scenario: name, messages: effect.messages.length }, effect.summary);
    this.wakeUp?.();
    return effect;
  }

  /** The next `n` regular messages (for printing a stream, or sending it elsewhere). */
  take(n: number): WireEnvelope[] {
    const out: WireEnvelope[] = [];
    for (let k = 0; k < n; k++) {
      const m = this.mixer.next(this.clock.at(this.produced));
      this.produced++;
      // when every device is silent, time passes all the same
      if (m) out.push(m);
    }
    return out;
  }

  private async loop(): Promise<void> {
    const { rate, durationMs, maxMessages, sender } = this.options;
    this.startedAt = performance.now();
    // `origin` is when message 0 was due; it moves forward when the target cannot keep up
    let origin = this.startedAt;
    try {
      while (!this.stopped) {
        while (this.scheduled.length > 0 && this.scheduled[0]!.at <= this.produced) this.trigger(this.scheduled.shift()!.name);
        if (this.urgent.length > 0) {
          await sender.send(this.urgent.splice(0, this.batch));
          continue;
        }
        const now = performance.now();
        if (durationMs !== undefined && now - this.startedAt >= durationMs) break;
        const remaining = maxMessages === undefined ? this.batch : maxMessages - this.produced;
        if (remaining <= 0) break;
        let due = Math.floor(((now - origin) / 1000) * rate) - this.produced;
        if (due > (rate * MAX_LAG_MS) / 1000) {
          // the target could not keep up: carry on at the rate from here rather than burst
          origin = now - (this.produced / rate) * 1000;
          due = Math.floor(((now - origin) / 1000) * rate) - this.produced;
        }
        // a batch ends where a scheduled scenario starts, so the run does not depend on timing
        const untilScenario = this.scheduled.length > 0 ? this.scheduled[0]!.at - this.produced : Infinity;
        const want = Math.min(this.batch, remaining, untilScenario);
        const firstDueAt = origin + ((this.produced + 1) / rate) * 1000;
        // send whole batches; at low rates, send what is due once it has waited MAX_HOLD_MS
        if (due >= want || (due > 0 && now - firstDueAt >= MAX_HOLD_MS)) {
          const batch = this.take(Math.min(due, want));
          if (batch.length > 0) await sender.send(batch);
        } else {
          const batchDueAt = origin + ((this.produced + want) / rate) * 1000;
          await this.sleep(Math.max(1, Math.min(batchDueAt, firstDueAt + MAX_HOLD_MS) - now));
        }
      }
      while (this.urgent.length > 0) await sender.send(this.urgent.splice(0, this.batch));
    } finally {
      const done = await sender.flush(10_000);
      if (!done) this.log.warn({ inFlight: sender.stats.inFlight }, 'stopped with messages still awaiting their ack');
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wakeUp = undefined;
        resolve();
      }, ms);
      this.wakeUp = () => {
        clearTimeout(timer);
        this.wakeUp = undefined;
        resolve();
      };
    });
  }
}
