/**
 * Connector figures (issue 3): sustained ingest over loopback per connector (batched WebSocket,
 * REST bulk, MQTT QoS 1 through mosquitto), durability on, and send → ack latency. The server runs
 * as a child process with a three-field model, as in the floor the WebSocket figure is compared to.
 */
import { mqttIngest, restBulk, restLatency, wsIngest, wsLatency } from '../connectors/load.js';
import { startBenchServer, startMosquitto } from '../connectors/processes.js';

/** The shape of the benchmark harness (server/bench) this figure module reports to. */
interface Figure {
  name: string;
  value: number;
  unit: string;
  floor?: string;
  goal?: string;
}
interface BenchLike {
  readonly quick: boolean;
  report(figure: Figure): void;
}

const PARSE_UPDATE_FLOOR = 'parse + lookup + update, batches of 100';

export default {
  name: 'connectors',
  async run(b: BenchLike) {
    const ms = b.quick ? 3_000 : 10_000;
    const twins = b.quick ? 10_000 : 100_000;
    const broker = await startMosquitto();
    const server = await startBenchServer(broker ? { MQTT_URL: broker.url } : {});
    try {
      // warm up the JIT and create the twins, so the measured runs see steady state
      await wsIngest(server.url, { connections: 2, batch: 100, window: 8, ms: 1_000, twins });

      const ws = await wsIngest(server.url, { connections: 2, batch: 100, window: 64, ms, twins });
      b.report({ name: 'ingest, WebSocket, batches of 100, 2 connections, durable', value: Math.round(ws.perSecond), unit: 'msgs/s', floor: PARSE_UPDATE_FLOOR, goal: '>= 0.5 of floor' });

      const rest = await restBulk(server.url, { connections: 16, batch: 100, ms, twins });
      b.report({ name: 'ingest, REST bulk, 100 per request, 16 connections, durable', value: Math.round(rest.perSecond), unit: 'msgs/s', floor: 'HTTP POST, 100 messages per request' });

      if (broker) {
        const mq = await mqttIngest(server.url, broker.url, { publishers: 4, window: 250, ms, twins });
        b.report({ name: 'ingest, MQTT QoS 1 via mosquitto, 4 publishers, durable', value: Math.round(mq.perSecond), unit: 'msgs/s' });
      }

      const wsl = await wsLatency(server.url, { rate: 2_000, ms });
      b.report({ name: 'latency send -> ack, WebSocket, 1 message a frame at 2,000/s, p50', value: round(wsl.p50), unit: 'ms' });
      b.report({ name: 'latency send -> ack, WebSocket, 1 message a frame at 2,000/s, p99', value: round(wsl.p99), unit: 'ms' });

      const rl = await restLatency(server.url, { rate: 1_000, ms });
      b.report({ name: 'latency request -> 202, REST, 1 message a request at 1,000/s, p50', value: round(rl.p50), unit: 'ms' });
      b.report({ name: 'latency request -> 202, REST, 1 message a request at 1,000/s, p99', value: round(rl.p99), unit: 'ms' });
    } finally {
      await server.stop();
      await broker?.stop();
    }
  },
};

const round = (x: number) => Math.round(x * 1000) / 1000;
