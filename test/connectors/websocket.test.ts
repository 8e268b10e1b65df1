import { WsDevice } from '../kit/devices.js';
import { deviceKey, runConnectorContract } from './connector-contract.js';

runConnectorContract({
  name: 'ws',
  delivery: 'exactly-once',
  device: (server, id) => WsDevice.connect(server.url, deviceKey(id)),
});
