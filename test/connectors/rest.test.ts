import { RestDevice } from '../kit/devices.js';
import { deviceKey, runConnectorContract } from './connector-contract.js';

runConnectorContract({
  name: 'rest',
  delivery: 'exactly-once',
  device: async (server, id) => new RestDevice(server.url, deviceKey(id)),
});
