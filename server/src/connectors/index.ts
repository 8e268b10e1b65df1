/** The device connectors: what the rest of the server uses. */
export type { Connector, ConnectorStatus } from './connector.js';
export { ConnectorState } from './connector.js';
export { connectorsFeature } from './feature.js';
export { alertWebhooksFeature } from './alert-webhooks.js';
export { REST_PREFIX } from './rest.js';
export { WS_PATH } from './websocket.js';
