/**
 * The workbench: run models in-process on a virtual clock, send messages, read state, collect
 * alerts and device commands, and advance time to fire timers. No server, no disk.
 *
 *   const wb = await createWorkbench({ models: [gasSensor] });
 *   await wb.send('gas-sensor', 's1', { ppm: 250, timestamp: wb.now() });
 *   expect(wb.alerts[0].severity).toBe('CRITICAL');
 */
import pino from 'pino';
import { keyString, type ModelDefinition, type JsonValue, type ReferenceRow } from '@hextwin/shared';
import { Engine } from './engine/engine.js';
import { VirtualClock } from './engine/clock.js';
import { MemoryStore } from './store/memory-store.js';
import type { AlertRecord, CommandRecord, TwinView } from './engine/types.js';
import { Simulation, splitModels } from './simulator/simulation.js';
import { TwinIndex } from './index/twin-index.js';
import { AggregateFeedback } from './index/feedback.js';
import { readFileSync } from 'node:fs';
import { parseRecording, replay, type RecordedMessage, type ReplayResult } from './recording/replay.js';
import { REPLAY_CONNECTOR } from './recording/recorder.js';

export interface WorkbenchOptions {
  models: ModelDefinition[];
  /** epoch ms the virtual clock starts at; default 2026-01-01T00:00:00Z */
  start?: number;
  /** reference-data rows per model, instead of the model's file */
  reference?: Record<string, ReferenceRow[]>;
  /** reuse a store (to test restarts) */
  store?: MemoryStore;
}

export interface Workbench {
  readonly engine: Engine;
  readonly store: MemoryStore;
  /** Send as a device, or `{ from }` as another twin would (`ctx.from` is then that twin). */
  send(model: string, id: string, message: JsonValue | JsonValue[], options?: { from?: { model: string; id: string } }): Promise<void>;
  state<S = unknown>(model: string, id: string): S | undefined;
  twin(model: string, id: string): TwinView | undefined;
  /** new alarms (raises); `alarmChanges` has every lifecycle change (repeat, severity, clear, ack, ...) */
  readonly alerts: AlertRecord[];
  readonly alarmChanges: AlertRecord[];
  readonly commands: CommandRecord[];
  readonly errors: { model: string; id: string; code: string; error: unknown }[];
  /**
   * Start the simulation models among `models` on the workbench clock: their instances take their
   * first step now, then as `advance` moves time (with the real-time twins' timers in clock order).
   */
  simulate(options?: { durationMs?: number }): Simulation;
  /** The simulation `simulate` started (throws before). */
  readonly simulation: Simulation;
  /**
   * Play a recording (a file path, NDJSON text, or its lines) on the virtual clock: each message
   * goes in at its recorded offset divided by `speed` (default 1; 0 all at once), timers firing between.
   */
  replay(recording: string | readonly (string | RecordedMessage)[], options?: { speed?: number }): Promise<ReplayResult>;
  advance(ms: number): Promise<void>;
  advanceTo(t: number): Promise<void>;
  now(): number;
  clear(): void;
  close(): Promise<void>;
}

export const WORKBENCH_EPOCH = Date.parse('2026-01-01T00:00:00Z');

export async function createWorkbench(opts: WorkbenchOptions): Promise<Workbench> {
  const clock = new VirtualClock(opts.start ?? WORKBENCH_EPOCH);
  const store = opts.store ?? new MemoryStore();
  const split = splitModels(opts.models);
  const models = split.realtime.map((m) => {
    const rows = opts.reference?.[m.name];
    if (!rows || !m.reference) return m;
    // the rows replace the file: hand the engine a model without a file, and set rows after start
    const { reference: _ignored, ...rest } = m;
    return rest as ModelDefinition;
  });
  const engine = new Engine({ store, clock, models, logger: pino({ level: 'silent' }), checkpointMs: 0 });
  const alerts: AlertRecord[] = [];
  const alarmChanges: AlertRecord[] = [];
  const commands: CommandRecord[] = [];
  const errors: Workbench['errors'] = [];
  engine.on('alert', (a) => {
    alarmChanges.push(a);
    if ((a.change ?? 'RAISE') === 'RAISE') alerts.push(a);
  });
  engine.on('command', (c) => commands.push(c.record));
  engine.on('modelError', (e) => errors.push(e));
  await engine.start();
  if (opts.reference) {
    for (const cm of engine.compiledModels()) {
      const rows = opts.reference[cm.name];
      if (!rows) continue;
      const idField = opts.models.find((m) => m.name === cm.name)?.reference?.idField ?? 'id';
      cm.reference = new Map(rows.map((r) => [String(r[idField]), r]));
    }
  }
  let simulation: Simulation | undefined;
  const settle = async () => {
    await simulation?.idle();
    await engine.idle();
    // what the twins sent back to simulated instances may have started steps
    await simulation?.idle();
    await engine.idle();
  };
  // declared aggregates (ctx.aggregate) are kept by an index, as in the server
  let feedback: { index: TwinIndex; feedback: AggregateFeedback } | null = null;
  if (AggregateFeedback.wanted(models)) {
    const index = new TwinIndex(engine);
    try {
      feedback = { index, feedback: new AggregateFeedback(index, models, clock) };
    } catch (e) {
      index.close();
      await engine.stop();
      throw e;
    }
    engine.setAggregateSource(feedback.feedback);
  }
  return {
    engine,
    store,
    async send(model, id, message, options) {
      const list = Array.isArray(message) ? message : [message];
      const source = options?.from ? { connector: 'twin', connection: keyString(options.from.model, options.from.id) } : { connector: 'workbench' };
      await engine.ingest(
        list.map((m) => ({ model, id, message: m })),
        { source },
      );
      await engine.idle();
    },
    state: <S>(model: string, id: string) => engine.twin(model, id)?.state as S | undefined,
    twin: (model, id) => engine.twin(model, id),
    alerts,
    alarmChanges,
    commands,
    errors,
    get simulation() {
      if (!simulation) throw new Error('call simulate() first');
      return simulation;
    },
    simulate(options) {
      simulation ??= new Simulation({ engine, clock, models: split.simulation, logger: pino({ level: 'silent' }), durationMs: options?.durationMs });
      simulation.start();
      return simulation;
    },
    async replay(recording, options) {
      const text =
        typeof recording === 'string' && !recording.includes('\n') && !recording.trimStart().startsWith('{') ? readFileSync(recording, 'utf8') : recording;
      const start = clock.now();
      return replay(parseRecording(text), {
        speed: options?.speed ?? 1,
        waitUntil: (ms) => clock.advanceTo(start + ms, settle),
        send: async (batch) => {
          await engine.ingest(batch, { source: { connector: REPLAY_CONNECTOR } });
          await engine.idle();
        },
      });
    },
    advance: (ms) => clock.advanceTo(clock.now() + ms, settle),
    advanceTo: (t) => clock.advanceTo(t, settle),
    now: () => clock.now(),
    clear() {
      alerts.length = 0;
      alarmChanges.length = 0;
      commands.length = 0;
      errors.length = 0;
    },
    async close() {
      simulation?.stop();
      feedback?.feedback.close();
      feedback?.index.close();
      await engine.stop();
    },
  };
}
