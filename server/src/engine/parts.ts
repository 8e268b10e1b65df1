/**
 * The parts of an engine, wired once by the facade (engine.ts) and shared by the machinery:
 * each part reads the others through this bag instead of through the facade.
 */
import type { Logger } from 'pino';
import type { AlertLog } from './alert-log.js';
import type { Checkpointer } from './checkpointer.js';
import type { Clock } from './clock.js';
import type { CommandQueue } from './command-queue.js';
import type { CompiledModel } from './compiled-model.js';
import type { EventHub } from './event-hub.js';
import type { EngineMetrics } from './metrics.js';
import type { LogPositions } from './positions.js';
import type { Quarantine } from './quarantine.js';
import type { Scheduler } from './scheduler.js';
import type { TwinTimers } from './timers.js';
import type { TwinHistory } from './twin-history.js';
import type { TwinRegistry } from './twin-registry.js';
import type { EngineEvents, TwinRoute } from './types.js';
import type { ModelWatchdog } from './watchdog.js';
import type { TwinStore } from '../store/store.js';

export interface EngineParts {
  readonly store: TwinStore;
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics: EngineMetrics;
  readonly events: EventHub<EngineEvents>;
  readonly compiled: Map<string, CompiledModel>;
  readonly positions: LogPositions;
  readonly scheduler: Scheduler;
  readonly timers: TwinTimers;
  readonly checkpointer: Checkpointer;
  readonly twins: TwinRegistry;
  readonly quarantine: Quarantine;
  alerts: AlertLog;
  commands: CommandQueue;
  history: TwinHistory;
  readonly route: TwinRoute | undefined;
  readonly watchdog: ModelWatchdog | null;
  readonly limits: {
    maxBatch: number;
    maxHops: number;
    asyncTimeoutMs: number;
  };
}
