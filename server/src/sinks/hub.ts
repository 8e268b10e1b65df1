/**
 * Sink topics: events that do not come from the engine's own topics reach the sinks here. The
 * geofence feature publishes `sinkTopics(ctx.engine).emit('geofence', {...})`; one hub per engine,
 * so several servers in one process (tests) stay apart.
 */
import { EventHub } from '../engine/event-hub.js';
import type { GeofenceInput } from './events.js';

export interface SinkTopics {
  geofence: GeofenceInput;
}

const hubs = new WeakMap<object, EventHub<SinkTopics>>();

export function sinkTopics(engine: object): EventHub<SinkTopics> {
  let hub = hubs.get(engine);
  if (!hub) {
    hub = new EventHub<SinkTopics>(() => undefined);
    hubs.set(engine, hub);
  }
  return hub;
}
