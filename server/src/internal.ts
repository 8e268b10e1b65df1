/**
 * The server's internal entry: the machinery behind `index.ts`, for the project's tests and
 * benchmarks. Not a stable API.
 */
export * from './index.js';
export { Engine } from './engine/engine.js';
export type { EngineOptions, ForwardItem, ReferenceSource, TwinRoute } from './engine/types.js';
export { RealClock, VirtualClock, type Clock } from './engine/clock.js';
export { EngineMetrics } from './engine/metrics.js';
export { LmdbStore } from './store/lmdb-store.js';
export { MemoryStore } from './store/memory-store.js';
export type { Checkpoint, CheckpointWriter, DurableTable, LogRecord, StoredTwin, TwinStore } from './store/store.js';
export type { RawBatch } from './store/raw-batch.js';
