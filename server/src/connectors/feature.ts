/**
 * The device connectors as one server feature: REST always, WebSocket always, MQTT when MQTT_URL
 * is set; commands routed back to them; their status in /readyz and /metrics.
 */
import type { Feature } from '../app/feature.js';
import type { Connector } from './connector.js';
import { Admission } from './admission.js';
import { ConnectorMetrics } from './connector-metrics.js';
import { routeCommands } from './command-router.js';
import { MqttConnector } from './mqtt.js';
import { RestConnector } from './rest.js';
import { WebSocketConnector } from './websocket.js';

export const connectorsFeature: Feature = {
  name: 'connectors',
  async start(ctx) {
    const connectors: Connector[] = [];
    const metrics = new ConnectorMetrics(ctx.metrics, ctx, () => connectors);
    // one admission for all three: a key's rate and connection limits count across connectors
    const admission = new Admission(ctx.engine, ctx.config);
    connectors.push(new RestConnector(ctx, metrics.for('rest'), admission), new WebSocketConnector(ctx, metrics.for('ws'), admission));
    if (ctx.config.mqttUrl) connectors.push(new MqttConnector(ctx, metrics.for('mqtt'), ctx.config.mqttUrl, admission));
    for (const c of connectors) {
      await c.start();
      ctx.connectorStatus(c.name, () => c.status());
    }
    const unroute = routeCommands(ctx.engine, connectors);
    return {
      async stop() {
        unroute();
        for (const c of [...connectors].reverse()) await c.stop();
      },
    };
  },
};
