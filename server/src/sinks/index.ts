/** Sinks: state changes, alerts and geofence events exported to NATS, NDJSON files, webhooks and PostgreSQL. */
export { sinksFeature, createSink, wants } from './feature.js';
export type { SinksOptions } from './feature.js';
export { sinkTopics, type SinkTopics } from './hub.js';
export { loadSinks, type SinkConfig } from './config.js';
export { SinkQueues, SinkQueue } from './durable-queue.js';
export type { Sink } from './sink.js';
export { SinkRefused } from './sink.js';
export * from './events.js';
