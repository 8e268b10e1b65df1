/**
 * Connector figures (issue 3): sustained ingest over loopback per connector — batched WebSocket,
 * REST bulk, MQTT QoS 1 through mosquitto — with durability on (acknowledged = in the LMDB log), and
 * device send → ack latency. The server runs as a child process with a model that updates three
 * fields per message, over as many twins as the floors it is compared with.
 */
import type { Bench, Figure } from '../bench.js';
import { Floor } from '../floors.js';
import { short } from '../lib/measure.js';
import { envelopeBatches, mqttIngestRate, restBulkRun, restLatency, restSingleRun, wsIngestRate, wsIngestRun, wsLatency } from '../connectors/load.js';
import { startBenchServer, startMosquitto } from '../connectors/processes.js';
import { cpuDuring, microsPer } from '../lib/proc-cpu.js';
import type { HttpRun } from '../lib/raw-clients.js';
import { checkpointed, longestTask } from '../lib/scrape.js';

const figure: Figure = {
  name: 'connectors',
  floors: [Floor.parseLookupUpdateBatch100, Floor.httpBatch100, Floor.httpSingle],
  async run(b: Bench) {
    const twins = b.quick ? 100_000 : 1_000_000;
    const ms = b.quick ? 3_000 : 10_000;
    const batches = envelopeBatches(400, 100, twins);
    // the loads cycle through a few tens of thousands of messages: they touch that many twins, not all the ids
    const touched = new Set(batches.flatMap((t) => [...t.matchAll(/"id":"([^"]+)"/g)].map((m) => m[1]))).size;
    const tw = `ids among ${short(twins)}, batches touch ${touched.toLocaleString('en-US')} twins`;
    const broker = await startMosquitto();
    if (!broker) b.progress('no mosquitto installed, skipping the MQTT figure');
    const server = await startBenchServer(broker ? { MQTT_URL: broker.url } : {});
    try {
      b.progress(`creating twins over WebSocket (${tw})`);
      await wsIngestRate(server.port, batches, 100, 2, 32, b.quick ? 2_000 : 5_000);

      // CPU per message: the server process's user + system time over a run (until the last ack)
      // over the messages acknowledged in it, after the checkpoint of what came before (so no
      // earlier run is charged to it); the longest task: the server's gauge over the run
      const measured = async <T>(name: string, load: () => Promise<T>, messages: (r: T) => number, what: string): Promise<T> => {
        await checkpointed(server.url);
        await longestTask(server.url);
        const { result, cpu, system } = await cpuDuring([server.pid], load);
        const longest = await longestTask(server.url);
        b.report({
          name: `${name}.cpu`,
          value: microsPer(cpu[0]!, messages(result)),
          unit: `µs CPU/durable msg (server process, of it ${microsPer(system[0]!, messages(result)).toFixed(1)} system, ${what})`,
        });
        b.report({ name: `${name}.longest-task`, value: longest * 1000, unit: `ms (server event loop during the run, ${what})` });
        return result;
      };
      const refused = (r: HttpRun) => (Object.keys(r.refused).length > 0 ? `, refused: ${JSON.stringify(r.refused)}` : '');

      b.progress('WebSocket, batches of 100');
      const ws = await measured(
        'connectors.ws-ingest-batch100',
        () => wsIngestRun(server.port, batches, 100, 2, 64, ms),
        (r) => r.total,
        `2 connections, ${tw}`,
      );
      b.report({
        name: 'connectors.ws-ingest-batch100',
        value: Math.round(ws.acked / (ms / 1000)),
        unit: `msgs/s (durable, 2 connections, ${tw})`,
        floor: Floor.parseLookupUpdateBatch100,
        goal: 'ratio >= 0.6',
      });

      b.progress('REST bulk, 100 per request');
      const rest = await measured(
        'connectors.rest-bulk-ingest-batch100',
        () => restBulkRun(server.port, batches, 16, ms),
        (r) => r.accepted * 100,
        `16 connections, ${tw}`,
      );
      b.report({
        name: 'connectors.rest-bulk-ingest-batch100',
        value: Math.round((rest.accepted * 100) / rest.seconds),
        unit: `msgs/s (durable, 16 connections, ${tw}${refused(rest)})`,
        floor: Floor.httpBatch100,
      });

      b.progress('REST, one message per request');
      const single = await measured(
        'connectors.rest-single-ingest',
        () => restSingleRun(server.port, twins, 64, ms),
        (r) => r.accepted,
        `64 connections, ${tw}`,
      );
      b.report({
        name: 'connectors.rest-single-ingest',
        value: Math.round(single.accepted / single.seconds),
        unit: `requests/s (durable, 64 connections, ${tw}${refused(single)})`,
        floor: Floor.httpSingle,
      });

      if (broker) {
        b.progress('MQTT QoS 1 through mosquitto');
        const mq = await mqttIngestRate(server.url, broker.url, twins, { publishers: 4, window: 250, ms });
        b.report({ name: 'connectors.mqtt-qos1-ingest', value: Math.round(mq), unit: `msgs/s (durable, via mosquitto, 4 publishers, ${tw})` });
      }

      b.progress('latency, WebSocket');
      const wsl = await wsLatency(server.url, { rate: 2_000, ms });
      b.report({ name: 'connectors.ws-send-to-ack.p50', value: round(wsl.p50), unit: `ms (1 message a frame, 2,000 frames/s, ${wsl.samples} samples)` });
      b.report({ name: 'connectors.ws-send-to-ack.p99', value: round(wsl.p99), unit: 'ms (1 message a frame, 2,000 frames/s)' });

      b.progress('latency, REST');
      const rl = await restLatency(server.url, { rate: 1_000, ms });
      b.report({ name: 'connectors.rest-send-to-202.p50', value: round(rl.p50), unit: `ms (1 message a request, 1,000 requests/s, ${rl.samples} samples)` });
      b.report({ name: 'connectors.rest-send-to-202.p99', value: round(rl.p99), unit: 'ms (1 message a request, 1,000 requests/s)' });
    } finally {
      await server.stop();
      await broker?.stop();
    }
  },
};

export default figure;

const round = (x: number) => Math.round(x * 1000) / 1000;
