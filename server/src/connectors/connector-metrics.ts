/**
 * Prometheus metrics shared by the connectors, labelled by connector. Errors are also counted in
 * the server-wide `hextwin_errors_total{code}` through AppContext.countError.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { AppContext } from '../app/feature.js';
import type { Connector } from './connector.js';

/** The per-connector handles a connector uses on its hot path (pre-labelled children). */
export interface ConnectorCounters {
  /** messages accepted (durable) */
  messagesIn: { inc(n?: number): void };
  /** seconds from receiving a request/frame/publish to acknowledging it */
  ackSeconds: { observe(v: number): void };
  commandsDelivered: { inc(n?: number): void };
  /** connections dropped because they stopped answering heartbeats */
  deadConnections: { inc(n?: number): void };
  /** times input was held back (reading paused, acks delayed) because the engine was overloaded */
  backpressure: { inc(n?: number): void };
  /** count a refused input: per connector and in hextwin_errors_total */
  error(code: string): void;
}

export class ConnectorMetrics {
  private readonly messagesIn: Counter<'connector'>;
  private readonly errors: Counter<'connector' | 'code'>;
  private readonly ackSeconds: Histogram<'connector'>;
  private readonly commandsDelivered: Counter<'connector'>;
  private readonly deadConnections: Counter<'connector'>;
  private readonly backpressure: Counter<'connector'>;

  constructor(
    registry: Registry,
    private readonly ctx: Pick<AppContext, 'countError'>,
    connectors: () => Connector[],
  ) {
    const registers = [registry];
    this.messagesIn = new Counter({
      name: 'hextwin_connector_messages_in_total',
      help: 'Messages accepted (durable) by connector',
      labelNames: ['connector'],
      registers,
    });
    this.errors = new Counter({
      name: 'hextwin_connector_errors_total',
      help: 'Refused inputs by connector and error code',
      labelNames: ['connector', 'code'],
      registers,
    });
    this.ackSeconds = new Histogram({
      name: 'hextwin_connector_ack_seconds',
      help: 'Time from receiving a request, frame or publish to acknowledging it once durable',
      labelNames: ['connector'],
      buckets: [2.5e-4, 5e-4, 1e-3, 2e-3, 5e-3, 1e-2, 2e-2, 5e-2, 0.1, 0.25, 1, 5],
      registers,
    });
    this.commandsDelivered = new Counter({
      name: 'hextwin_connector_commands_delivered_total',
      help: 'Commands pushed live to devices by connector',
      labelNames: ['connector'],
      registers,
    });
    this.deadConnections = new Counter({
      name: 'hextwin_connector_dead_connections_total',
      help: 'Connections dropped for not answering heartbeats, by connector',
      labelNames: ['connector'],
      registers,
    });
    this.backpressure = new Counter({
      name: 'hextwin_connector_backpressure_total',
      help: 'Times a connector held input back (stopped reading, delayed acks) because the engine was overloaded',
      labelNames: ['connector'],
      registers,
    });
    new Gauge({
      name: 'hextwin_connector_connections',
      help: 'Open device connections (WebSocket) or broker connections (MQTT) by connector',
      labelNames: ['connector'],
      registers,
      collect() {
        for (const c of connectors()) this.set({ connector: c.name }, c.status().connections);
      },
    });
    new Gauge({
      name: 'hextwin_connector_up',
      help: '1 when the connector is serving (MQTT: connected to its broker), else 0',
      labelNames: ['connector'],
      registers,
      collect() {
        for (const c of connectors()) this.set({ connector: c.name }, c.status().state === 'up' ? 1 : 0);
      },
    });
  }

  for(connector: string): ConnectorCounters {
    const errors = this.errors;
    const countError = this.ctx.countError;
    return {
      messagesIn: this.messagesIn.labels(connector),
      ackSeconds: this.ackSeconds.labels(connector),
      commandsDelivered: this.commandsDelivered.labels(connector),
      deadConnections: this.deadConnections.labels(connector),
      backpressure: this.backpressure.labels(connector),
      error(code) {
        errors.labels(connector, code).inc();
        countError(code);
      },
    };
  }
}
