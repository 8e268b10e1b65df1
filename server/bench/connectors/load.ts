/**
 * Load generators for the connector benchmarks, kept cheap on the client side (frames and bodies
 * are built once) because client and server share the machine's cores.
 */
import http from 'node:http';
import mqtt from 'mqtt';
import WebSocket from 'ws';

const MODEL = 'bench-reading';
const reading = (i: number) => ({ temp: 20 + (i % 50) / 10, rpm: 1200 + (i % 300), timestamp: 1_767_225_600_000 + i });

/** JSON of `count` batches of `size` envelopes spread over `twins` twins. */
function batches(count: number, size: number, twins: number): string[] {
  const out: string[] = [];
  let k = 0;
  for (let b = 0; b < count; b++) {
    const items = [];
    for (let i = 0; i < size; i++, k++) items.push({ model: MODEL, id: `t${k % twins}`, message: reading(k) });
    out.push(JSON.stringify(items));
  }
  return out;
}

export interface Throughput {
  messages: number;
  seconds: number;
  perSecond: number;
}

/** Batched WebSocket ingest: `connections` sockets each keeping `window` frames of `batch` messages in flight. */
export async function wsIngest(url: string, o: { connections: number; batch: number; window: number; ms: number; twins: number }): Promise<Throughput> {
  const pool = batches(64, o.batch, o.twins);
  let acked = 0;
  const t0 = performance.now();
  const deadline = t0 + o.ms;
  await Promise.all(
    Array.from({ length: o.connections }, async () => {
      const ws = new WebSocket(url.replace(/^http/, 'ws') + '/ingest', { perMessageDeflate: false });
      await new Promise((r, j) => (ws.once('open', r), ws.once('error', j)));
      let fid = 0;
      let inflight = 0;
      await new Promise<void>((done) => {
        const sendOne = () => {
          fid++;
          inflight++;
          ws.send(`{"type":"batch","fid":${fid},"items":${pool[fid % pool.length]}}`);
        };
        ws.on('message', (data) => {
          const text = data.toString();
          if (!text.startsWith('{"type":"ack"')) return;
          inflight--;
          acked += o.batch;
          if (performance.now() < deadline) sendOne();
          else if (inflight === 0) done();
        });
        ws.send('{"type":"hello"}');
        for (let i = 0; i < o.window; i++) sendOne();
      });
      ws.close();
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  return { messages: acked, seconds, perSecond: acked / seconds };
}

/** REST bulk ingest: `connections` keep-alive connections posting JSON arrays of `batch` envelopes. */
export async function restBulk(url: string, o: { connections: number; batch: number; ms: number; twins: number }): Promise<Throughput> {
  const pool = batches(64, o.batch, o.twins);
  const { hostname, port } = new URL(url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: o.connections });
  let accepted = 0;
  let k = 0;
  const t0 = performance.now();
  const deadline = t0 + o.ms;
  const post = (body: string) =>
    new Promise<number>((resolve, reject) => {
      const req = http.request({ hostname, port, path: '/api/v1/messages', method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode!));
      });
      req.on('error', reject);
      req.end(body);
    });
  await Promise.all(
    Array.from({ length: o.connections }, async () => {
      while (performance.now() < deadline) if ((await post(pool[k++ % pool.length]!)) === 202) accepted += o.batch;
    }),
  );
  agent.destroy();
  const seconds = (performance.now() - t0) / 1000;
  return { messages: accepted, seconds, perSecond: accepted / seconds };
}

async function serverCount(url: string, connector: string): Promise<number> {
  const text = await (await fetch(url + '/metrics')).text();
  const m = new RegExp(`^hextwin_connector_messages_in_total\\{connector="${connector}"\\} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

/**
 * MQTT QoS 1 ingest through the broker: `publishers` devices keep `window` publishes in flight; the
 * rate is what the server acknowledged as durable (its counter), not what the broker took.
 */
export async function mqttIngest(serverUrl: string, brokerUrl: string, o: { publishers: number; window: number; ms: number; twins: number }): Promise<Throughput> {
  const payloads = Array.from({ length: 256 }, (_, i) => JSON.stringify(reading(i)));
  const before = await serverCount(serverUrl, 'mqtt');
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
          inflight++;
          sent++;
          k += o.publishers;
          client.publish(`hextwin/${MODEL}/t${k % o.twins}/telemetry`, payloads[k % payloads.length]!, { qos: 1 }, () => {
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
  // the broker acknowledged the devices; wait for the server to have taken everything in
  while ((await serverCount(serverUrl, 'mqtt')) - before < sent && performance.now() < deadline + 30_000) await new Promise((r) => setTimeout(r, 20));
  const messages = (await serverCount(serverUrl, 'mqtt')) - before;
  const seconds = (performance.now() - t0) / 1000;
  return { messages, seconds, perSecond: messages / seconds };
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

/** Send → ack latency of single-message WebSocket frames sent at `rate` frames a second. */
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
    const due = t0 + (fid * 1000) / o.rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    sentAt.set(fid, performance.now());
    ws.send(`{"type":"msg","fid":${fid},"model":"${MODEL}","id":"lat-${fid % 100}","message":${JSON.stringify(reading(fid))}}`);
  }
  while (sentAt.size > 0 && performance.now() < t0 + o.ms + 10_000) await new Promise((r) => setTimeout(r, 10));
  ws.close();
  return percentiles(lat);
}

/** Request → 202 latency of single-message REST posts sent at `rate` a second over keep-alive connections. */
export async function restLatency(url: string, o: { rate: number; ms: number }): Promise<Latency> {
  const { hostname, port } = new URL(url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  const lat: number[] = [];
  const n = Math.floor((o.rate * o.ms) / 1000);
  const pending: Promise<void>[] = [];
  const t0 = performance.now();
  for (let i = 1; i <= n; i++) {
    const due = t0 + (i * 1000) / o.rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const body = JSON.stringify(reading(i));
    const start = performance.now();
    pending.push(
      new Promise<void>((resolve) => {
        const req = http.request({ hostname, port, path: `/api/v1/messages/${MODEL}/lat-${i % 100}`, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
          res.resume();
          res.on('end', () => {
            if (res.statusCode === 202) lat.push(performance.now() - start);
            resolve();
          });
        });
        req.on('error', () => resolve());
        req.end(body);
      }),
    );
  }
  await Promise.all(pending);
  agent.destroy();
  return percentiles(lat);
}
