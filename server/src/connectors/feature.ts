/**
 * The device connectors as one server feature: REST always, WebSocket always, MQTT when MQTT_URL
 * is set; commands routed back to them; their status in /readyz and /metrics.
 */
import type { Feature } from '../app/feature.js';
import type { Connector } from './connector.js';
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
    connectors.push(new RestConnector(ctx, metrics.for('rest')), new WebSocketConnector(ctx, metrics.for('ws')));
    if (ctx.config.mqttUrl) connectors.push(new MqttConnector(ctx, metrics.for('mqtt'), ctx.config.mqttUrl));
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
