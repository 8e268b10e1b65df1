import { MqttDevice } from '../kit/devices.js';
import { startMosquitto } from '../kit/mosquitto.js';
import { DEVICE_IDS, runConnectorContract } from './connector-contract.js';

// The broker authenticates devices and its ACL scopes each to its own twin's topics (username = twin id).
const SERVER = { username: 'hextwin', password: 'server-secret' };
const devicePassword = (id: string) => `pw-${id}`;
let brokerUrl = '';

runConnectorContract({
  name: 'mqtt',
  delivery: 'at-least-once',
  async setup() {
    const broker = await startMosquitto({
      users: { [SERVER.username]: SERVER.password, ...Object.fromEntries(DEVICE_IDS.map((id) => [id, devicePassword(id)])) },
      acl: [
        `user ${SERVER.username}`,
        'topic readwrite hextwin/#',
        '',
        'pattern write hextwin/probe/%u/telemetry',
        'pattern read hextwin/probe/%u/commands',
        'pattern read hextwin/probe/%u/errors',
        '',
      ].join('\n'),
    });
    brokerUrl = broker.url;
    return { env: { MQTT_URL: `mqtt://${SERVER.username}:${SERVER.password}@127.0.0.1:${broker.port}` }, teardown: () => broker.stop() };
  },
  device: (_server, id) => MqttDevice.connect(brokerUrl, { model: 'probe', id }, { username: id, password: devicePassword(id) }),
});
