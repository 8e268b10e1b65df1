/**
 * Load for the connector figures. Throughput clients write pre-built bytes on raw sockets (as the
 * floors' clients do), so that the client costs less than the server it drives; latency clients
 * send at a fixed rate and may be ordinary ones.
 */
import http from 'node:http';
import net from 'node:net';
import mqtt from 'mqtt';
import WebSocket from 'ws';
import { httpPost, rawHttpRun, windowedWsRun, wsConnect, wsTextFrame, type HttpRun } from '../lib/raw-clients.js';
import { messageBatches, messageDocs, type TelemetryMessage } from '../lib/twins.js';

export const MODEL = 'bench-reading';

/** The floors' telemetry, re-addressed to the benchmark model. */
function envelopeText(m: TelemetryMessage): string {
  return `{"model":"${MODEL}","id":"${m.id}","message":{"temp":${m.temp.toFixed(2)},"rpm":${m.rpm.toFixed(2)},"alertLevel":${m.alertLevel},"timestamp":${m.timestamp}}}`;
}

/** JSON arrays of `size` envelopes for random twins among `twins`. */
export function envelopeBatches(count: number, size: number, twins: number): string[] {
  return messageBatches(count, size, twins, 7).map((b) => `[${b.map(envelopeText).join(',')}]`);
}

/** A WebSocket at /ingest that has said hello. */
async function ingestSocket(port: number): Promise<net.Socket> {
  const s = await wsConnect(port, '/ingest');
  s.write(wsTextFrame('{"type":"hello"}'));
  return s;
}

/**
 * Batch frames over `connections` WebSockets at /ingest, each with at most `window` frames awaiting
 * their ack, for `ms`; acknowledged (durable) messages per second. Every frame has a fresh fid.
 */
export async function wsIngestRate(port: number, batches: string[], perFrame: number, connections: number, window: number, ms: number): Promise<number> {
  return (await wsIngestRun(port, batches, perFrame, connections, window, ms)).acked / (ms / 1000);
}

/** wsIngestRate's run: messages acknowledged within `ms`, in all until the last frame came back, and the seconds to then. */
export async function wsIngestRun(port: number, batches: string[], perFrame: number, connections: number, window: number, ms: number) {
  const sockets = await Promise.all(Array.from({ length: connections }, () => ingestSocket(port)));
  return windowedWsRun(sockets, {
    frames: (c) => {
      let fid = 0;
      return () => {
        fid++;
        return wsTextFrame(`{"type":"batch","fid":${fid},"items":${batches[(fid * connections + c) % batches.length]}}`);
      };
    },
    ackPrefix: '{"type":"ack"',
    messagesPerFrame: perFrame,
    window,
    ms,
  });
}

/** REST bulk (`POST /api/v1/messages`, JSON arrays) over `connections` keep-alive connections for `ms`, until the last answer. */
export async function restBulkRun(port: number, batches: string[], connections: number, ms: number): Promise<HttpRun> {
  const requests = batches.map((b) => httpPost(port, '/api/v1/messages', b));
  return rawHttpRun(port, requests, connections, { ms });
}

/** REST, one message per request (`POST /api/v1/messages/{model}/{id}`) over `connections` keep-alive connections for `ms`, until the last answer. */
export async function restSingleRun(port: number, twins: number, connections: number, ms: number): Promise<HttpRun> {
  const requests = messageDocs(20_000, twins, 11).map((text) => {
    const m = JSON.parse(text) as TelemetryMessage;
    return httpPost(port, `/api/v1/messages/${MODEL}/${m.id}`, `{"temp":${m.temp},"rpm":${m.rpm},"alertLevel":${m.alertLevel},"timestamp":${m.timestamp}}`);
  });
  return rawHttpRun(port, requests, connections, { ms });
}

async function serverCount(url: string): Promise<number> {
  const text = await (await fetch(url + '/metrics')).text();
  const m = /^hextwin_connector_messages_in_total\{connector="mqtt"\} (\S+)$/m.exec(text);
  return m ? Number(m[1]) : 0;
}

/**
 * MQTT QoS 1 through the broker: `publishers` devices keep `window` publishes in flight for `ms`;
 * the rate is what the server took in as durable (its counter), until it has caught up.
 */
export async function mqttIngestRate(
  serverUrl: string,
  brokerUrl: string,
  twins: number,
  o: { publishers: number; window: number; ms: number },
): Promise<number> {
  const docs = messageDocs(4_096, twins, 9).map((t) => JSON.parse(t) as TelemetryMessage);
  const payloads = docs.map((m) => ({
    topic: `hextwin/${MODEL}/${m.id}/telemetry`,
    payload: `{"temp":${m.temp},"rpm":${m.rpm},"alertLevel":${m.alertLevel},"timestamp":${m.timestamp}}`,
  }));
  const before = await serverCount(serverUrl);
  const t0 = performance.now();
  const deadline = t0 + o.ms;
  let sent = 0;
  await Promise.all(
    Array.from({ length: o.publishers }, async (_, p) => {
      const client = await mqtt.connectAsync(brokerUrl, { protocolVersion: 5, clientId: `bench-pub-${p}-${process.pid}` });
      let k = p;
      await new Promise<void>((done) => {
        let inflight = 0;
        const one = () => {
          const m = payloads[(k += o.publishers) % payloads.length]!;
          inflight++;
          sent++;
          client.publish(m.topic, m.payload, { qos: 1 }, () => {
            inflight--;
            if (performance.now() < deadline) one();
            else if (inflight === 0) done();
          });
        };
        for (let i = 0; i < o.window; i++) one();
      });
      await client.endAsync();
    }),
  );
  // the broker acknowledged the devices; the server may still be taking the rest in
  while ((await serverCount(serverUrl)) - before < sent && performance.now() < deadline + 30_000) await new Promise((r) => setTimeout(r, 20));
  return ((await serverCount(serverUrl)) - before) / ((performance.now() - t0) / 1000);
}

export interface Latency {
  p50: number;
  p99: number;
  samples: number;
}

function percentiles(xs: number[]): Latency {
  xs.sort((a, b) => a - b);
  const at = (q: number) => xs[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? NaN;
  return { p50: at(0.5), p99: at(0.99), samples: xs.length };
}

const reading = (i: number) => `{"temp":${(20 + (i % 50) / 10).toFixed(1)},"rpm":${1200 + (i % 300)},"alertLevel":0,"timestamp":${1_767_225_600_000 + i}}`;

/** Send → ack latency of one-message WebSocket frames sent at `rate` frames a second. */
export async function wsLatency(url: string, o: { rate: number; ms: number }): Promise<Latency> {
  const ws = new WebSocket(url.replace(/^http/, 'ws') + '/ingest', { perMessageDeflate: false });
  await new Promise((r, j) => (ws.once('open', r), ws.once('error', j)));
  const sentAt = new Map<number, number>();
  const lat: number[] = [];
  ws.on('message', (data) => {
    const m = /^\{"type":"ack","fid":(\d+)/.exec(data.toString());
    if (!m) return;
    const fid = Number(m[1]);
    lat.push(performance.now() - sentAt.get(fid)!);
    sentAt.delete(fid);
  });
  ws.send('{"type":"hello"}');
  const n = Math.floor((o.rate * o.ms) / 1000);
  const t0 = performance.now();
  for (let fid = 1; fid <= n; fid++) {
    const wait = t0 + (fid * 1000) / o.rate - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    sentAt.set(fid, performance.now());
    ws.send(`{"type":"msg","fid":${fid},"model":"${MODEL}","id":"lat-${fid % 100}","message":${reading(fid)}}`);
  }
  while (sentAt.size > 0 && performance.now() < t0 + o.ms + 10_000) await new Promise((r) => setTimeout(r, 10));
  ws.close();
  return percentiles(lat);
}

/** Request → 202 latency of one-message REST posts sent at `rate` a second over keep-alive connections. */
export async function restLatency(url: string, o: { rate: number; ms: number }): Promise<Latency> {
  const { hostname, port } = new URL(url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  const lat: number[] = [];
  const n = Math.floor((o.rate * o.ms) / 1000);
  const pending: Promise<void>[] = [];
  const t0 = performance.now();
  for (let i = 1; i <= n; i++) {
    const wait = t0 + (i * 1000) / o.rate - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const body = reading(i);
    const start = performance.now();
    pending.push(
      new Promise<void>((resolve) => {
        const req = http.request(
          {
            hostname,
            port,
            path: `/api/v1/messages/${MODEL}/lat-${i % 100}`,
            method: 'POST',
            agent,
            headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
          },
          (res) => {
            res.resume();
            res.on('end', () => {
              if (res.statusCode === 202) lat.push(performance.now() - start);
              resolve();
            });
          },
        );
        req.on('error', () => resolve());
        req.end(body);
      }),
    );
  }
  await Promise.all(pending);
  agent.destroy();
  return percentiles(lat);
}
