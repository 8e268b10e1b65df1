/**
 * @hextwin/server: what the package offers to code that embeds hextwin or tests models with it.
 * Internal machinery (engine parts, stores, the cluster's pieces) is in `internal.ts`, for the
 * project's own tests and benchmarks; it may change without notice.
 */
export { startApp, type App, type AppOptions } from './app/app.js';
export { loadConfig, type Config } from './config.js';
export { loadModels } from './models-loader.js';
export { createWorkbench, WORKBENCH_EPOCH, type Workbench, type WorkbenchOptions } from './workbench.js';
export type {
  AlertRecord,
  CommandRecord,
  EngineApi,
  EngineEvents,
  Envelope,
  IngestOptions,
  ModelInfo,
  QuarantineRecord,
  SourceRef,
  TwinView,
} from './engine/types.js';
