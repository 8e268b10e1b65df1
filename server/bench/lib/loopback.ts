/** Starts the loopback server child process and drives it with WebSocket and HTTP clients. */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { trackChild } from './children.js';

export interface Loopback {
  port: number;
  /** messages the server has applied so far */
  applied(): Promise<number>;
  stop(): Promise<void>;
}

export async function startLoopback(twins: number): Promise<Loopback> {
  const child: ChildProcess = trackChild(
    fork(new URL('./loopback-server.ts', import.meta.url), [String(twins)], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    }),
    'loopback floor server',
  );
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m: { port: number }) => resolve(m.port));
    child.once('exit', (code) => reject(new Error(`the loopback server exited with ${code}`)));
  });
  return {
    port,
    applied: () =>
      new Promise((resolve) => {
        child.once('message', (m: { applied: number }) => resolve(m.applied));
        child.send({ cmd: 'applied' });
      }),
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.disconnect();
      const timer = setTimeout(() => child.kill('SIGKILL'), 2_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * Sends pre-built frames over `connections` WebSockets, each with at most `window` frames awaiting
 * their ack, for `ms`; returns acknowledged messages per second.
 */
export async function wsRate(
  port: number,
  frames: { text: (fid: number) => string; count: number }[],
  connections: number,
  window: number,
  ms: number,
): Promise<number> {
  const sockets = await Promise.all(
    Array.from({ length: connections }, () => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: false });
      return new Promise<WebSocket>((resolve, reject) => {
        ws.once('open', () => resolve(ws));
        ws.once('error', reject);
      });
    }),
  );
  let acked = 0;
  let running = true;
  const t0 = performance.now();
  await Promise.all(
    sockets.map(
      (ws, c) =>
        new Promise<void>((resolve) => {
          let next = c;
          let inFlight = 0;
          const counts = new Map<number, number>();
          const pump = () => {
            while (running && inFlight < window) {
              const f = frames[next % frames.length]!;
              counts.set(next, f.count);
              ws.send(f.text(next));
              next += connections;
              inFlight++;
            }
            if (!running && inFlight === 0) resolve();
          };
          ws.on('message', (data) => {
            const fid = (JSON.parse(data.toString()) as { fid: number }).fid;
            inFlight--;
            if (performance.now() - t0 <= ms) acked += counts.get(fid) ?? 0;
            else running = false;
            counts.delete(fid);
            pump();
          });
          pump();
        }),
    ),
  );
  const elapsed = Math.min(performance.now() - t0, ms);
  for (const ws of sockets) ws.close();
  return acked / (elapsed / 1000);
}

/**
 * POSTs pre-built bodies over `connections` keep-alive connections, one request at a time on each,
 * for `ms`; returns requests per second.
 */
export async function httpRate(port: number, bodies: string[], connections: number, ms: number): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  let done = 0;
  const t0 = performance.now();
  const post = (body: string) =>
    new Promise<number>((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port,
          path: '/m',
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  await Promise.all(
    Array.from({ length: connections }, async (_, c) => {
      for (let k = c; performance.now() - t0 < ms; k += connections) {
        const status = await post(bodies[k % bodies.length]!);
        if (status !== 202) throw new Error(`loopback server answered ${status}`);
        if (performance.now() - t0 <= ms) done++;
      }
    }),
  );
  agent.destroy();
  return done / (ms / 1000);
}
