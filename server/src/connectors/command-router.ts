/**
 * Carries each device command the engine emits to the connector the twin's messages came from.
 * Every command also stays in the engine's durable queue (the REST pull list) until the device
 * acknowledges it, so a command whose device is not connected right now is not lost.
 */
import type { EngineApi } from '../engine/types.js';
import type { Connector } from './connector.js';

export function routeCommands(engine: EngineApi, connectors: Connector[]): () => void {
  const byName = new Map(connectors.filter((c) => c.deliverCommand).map((c) => [c.name, c]));
  return engine.on('command', ({ record, source }) => {
    if (!source) return;
    byName.get(source.connector)?.deliverCommand!(record, source);
  });
}
