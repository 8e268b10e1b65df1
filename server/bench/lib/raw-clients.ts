/**
 * Load clients for the loopback floors, written straight on TCP sockets with pre-built bytes, so
 * that the client costs little and the figure measures the server's core, not the client's.
 * (A node:http or `ws` client spends more per message than the server it drives.)
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { performance } from 'node:perf_hooks';

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port, noDelay: true }, () => resolve(s));
    s.once('error', reject);
  });
}

/** A masked client text frame; the mask key is zero, so the payload goes as it is (RFC 6455 allows any key). */
export function wsTextFrame(text: string): Buffer {
  const payload = Buffer.from(text, 'utf8');
  const n = payload.length;
  const head =
    n < 126
      ? Buffer.from([0x81, 0x80 | n])
      : n < 65_536
        ? Buffer.from([0x81, 0x80 | 126, n >> 8, n & 0xff])
        : Buffer.concat([Buffer.from([0x81, 0x80 | 127]), bigEndian64(n)]);
  return Buffer.concat([head, Buffer.alloc(4), payload]);
}

function bigEndian64(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}

/** A raw socket upgraded to a WebSocket at `path`, its handshake done; bytes after the 101 stay readable. */
export async function wsConnect(port: number, path = '/'): Promise<net.Socket> {
  const s = await connect(port);
  s.write(
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  await new Promise<void>((resolve, reject) => {
    let head = '';
    const onData = (d: Buffer) => {
      head += d.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      s.off('data', onData);
      if (!head.startsWith('HTTP/1.1 101')) return reject(new Error(`WebSocket upgrade refused: ${head.split('\r\n')[0]}`));
      if (head.length > end + 4) s.unshift(Buffer.from(head.slice(end + 4), 'latin1'));
      resolve();
    };
    s.on('data', onData);
  });
  return s;
}

/**
 * Counts complete unmasked server frames in a byte stream that may split them anywhere; with a
 * `prefix`, only the frames whose payload starts with it (acks among other frames).
 */
export class FrameCounter {
  private rest: Buffer = Buffer.alloc(0);
  private readonly prefix: Buffer | undefined;
  constructor(prefix?: string) {
    this.prefix = prefix === undefined ? undefined : Buffer.from(prefix);
  }
  push(d: Buffer): number {
    let buf = this.rest.length ? Buffer.concat([this.rest, d]) : d;
    let frames = 0;
    for (;;) {
      if (buf.length < 2) break;
      let len = buf[1]! & 0x7f;
      let off = 2;
      if (len === 126) {
        if (buf.length < 4) break;
        len = buf.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (buf.length < 10) break;
        len = Number(buf.readBigUInt64BE(2));
        off = 10;
      }
      if (buf.length < off + len) break;
      if (!this.prefix || buf.subarray(off, off + this.prefix.length).equals(this.prefix)) frames++;
      buf = buf.subarray(off + len);
    }
    this.rest = Buffer.from(buf);
    return frames;
  }
}

/** A windowed WebSocket load: what each connection sends, and which replies acknowledge it. */
export interface WsWindowLoad {
  /** For connection `c`, the function that gives its next frame. */
  frames: (c: number) => () => Buffer;
  /** Only server frames starting with this count as acks (default: every frame). */
  ackPrefix?: string;
  messagesPerFrame: number;
  /** frames each connection keeps awaiting their ack */
  window: number;
  ms: number;
}

/**
 * Runs `load` over `sockets`: each keeps at most `window` frames awaiting their ack, for `ms`;
 * `acked` counts the messages acknowledged within `ms`, `total` those acknowledged until the last
 * frame in flight came back, `seconds` the time to that point. Destroys the sockets when done.
 */
export async function windowedWsRun(sockets: net.Socket[], load: WsWindowLoad): Promise<{ acked: number; total: number; seconds: number }> {
  const { window, ms } = load;
  let acked = 0;
  let total = 0;
  const t0 = performance.now();
  await Promise.all(
    sockets.map(
      (s, c) =>
        new Promise<void>((resolve) => {
          const counter = new FrameCounter(load.ackPrefix);
          const nextFrame = load.frames(c);
          let inFlight = 0;
          let running = true;
          const pump = () => {
            // frames that go out together leave in one write
            s.cork();
            while (running && inFlight < window) {
              s.write(nextFrame());
              inFlight++;
            }
            s.uncork();
            if (!running && inFlight === 0) resolve();
          };
          s.on('data', (d: Buffer) => {
            const n = counter.push(d);
            inFlight -= n;
            total += n * load.messagesPerFrame;
            if (performance.now() - t0 <= ms) acked += n * load.messagesPerFrame;
            else running = false;
            pump();
          });
          pump();
        }),
    ),
  );
  const seconds = (performance.now() - t0) / 1000;
  for (const s of sockets) s.destroy();
  return { acked, total, seconds };
}

/** windowedWsRun as a rate: messages acknowledged within `ms`, per second. */
export async function windowedWsRate(sockets: net.Socket[], load: WsWindowLoad): Promise<number> {
  return (await windowedWsRun(sockets, load)).acked / (load.ms / 1000);
}

/**
 * Sends `frames` (cycled) over `connections` WebSockets, each with at most `window` frames awaiting
 * their one-frame reply, for `ms`; returns acknowledged messages per second.
 */
export async function rawWsRate(port: number, frames: Buffer[], messagesPerFrame: number, connections: number, window: number, ms: number): Promise<number> {
  const sockets = await Promise.all(Array.from({ length: connections }, () => wsConnect(port)));
  return windowedWsRate(sockets, {
    frames: (c) => {
      let next = c;
      return () => {
        const frame = frames[next % frames.length]!;
        next += connections;
        return frame;
      };
    },
    messagesPerFrame,
    window,
    ms,
  });
}

/** A pre-built HTTP/1.1 POST request. */
export function httpPost(port: number, path: string, body: string): Buffer {
  const b = Buffer.from(body, 'utf8');
  return Buffer.concat([
    Buffer.from(`POST ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nContent-Length: ${b.length}\r\n\r\n`, 'latin1'),
    b,
  ]);
}

/** Counts complete HTTP responses (with Content-Length bodies) in a byte stream, checking their status. */
class ResponseCounter {
  private rest = '';
  push(d: Buffer, status: string): number {
    const statuses = this.statuses(d);
    const wrong = statuses.find((s) => !s.startsWith(`HTTP/1.1 ${status}`));
    if (wrong !== undefined) throw new Error(`loopback server answered ${wrong}`);
    return statuses.length;
  }
  /** The status lines of the responses this chunk completed. */
  statuses(d: Buffer): string[] {
    let text = this.rest + d.toString('latin1');
    const out: string[] = [];
    for (;;) {
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) break;
      const head = text.slice(0, end);
      const m = /content-length:\s*(\d+)/i.exec(head);
      const len = m ? Number(m[1]) : 0;
      if (text.length < end + 4 + len) break;
      out.push(head.slice(0, head.indexOf('\r\n')));
      text = text.slice(end + 4 + len);
    }
    this.rest = text;
    return out;
  }
}

/**
 * Sends `requests` (cycled) over `connections` keep-alive connections, one at a time on each, for
 * `ms`; returns responses per second.
 */
export async function rawHttpRate(port: number, requests: Buffer[], connections: number, ms: number): Promise<number> {
  const sockets = await Promise.all(Array.from({ length: connections }, () => connect(port)));
  let done = 0;
  const t0 = performance.now();
  await Promise.all(
    sockets.map(
      (s, c) =>
        new Promise<void>((resolve, reject) => {
          const counter = new ResponseCounter();
          let next = c;
          s.on('data', (d: Buffer) => {
            let n: number;
            try {
              n = counter.push(d, '202');
            } catch (e) {
              return reject(e);
            }
            if (n === 0) return;
            if (performance.now() - t0 > ms) return resolve();
            done += n;
            next += connections;
            s.write(requests[next % requests.length]!);
          });
          s.write(requests[next % requests.length]!);
        }),
    ),
  );
  for (const s of sockets) s.destroy();
  return done / (ms / 1000);
}

export interface HttpRun {
  /** requests answered 202 */
  accepted: number;
  /** requests answered otherwise (429 from a full engine, say), by status line */
  refused: Record<string, number>;
  /** from the first request to the last answer */
  seconds: number;
}

/**
 * Like rawHttpRate, but counts every answer until the last one in flight has come back, so that
 * the work a server did in the run (its CPU time, say) and the requests it answered match. With
 * `once`, each request is sent once (a warm-up that creates twins) instead of cycling for `ms`.
 */
export async function rawHttpRun(port: number, requests: Buffer[], connections: number, o: { ms: number; once?: boolean }): Promise<HttpRun> {
  const sockets = await Promise.all(Array.from({ length: connections }, () => connect(port)));
  let accepted = 0;
  const refused: Record<string, number> = {};
  let next = 0;
  const t0 = performance.now();
  const take = (): Buffer | undefined => {
    if (o.once ? next >= requests.length : performance.now() - t0 > o.ms) return undefined;
    return requests[next++ % requests.length];
  };
  await Promise.all(
    sockets.map(
      (s) =>
        new Promise<void>((resolve, reject) => {
          const counter = new ResponseCounter();
          s.on('error', reject);
          s.on('data', (d: Buffer) => {
            const answered = counter.statuses(d);
            if (answered.length === 0) return;
            for (const st of answered) {
              if (st.startsWith('HTTP/1.1 202')) accepted++;
              else refused[st] = (refused[st] ?? 0) + 1;
            }
            const req = take();
            if (req) s.write(req);
            else resolve();
          });
          const first = take();
          if (first) s.write(first);
          else resolve();
        }),
    ),
  );
  const seconds = (performance.now() - t0) / 1000;
  for (const s of sockets) s.destroy();
  return { accepted, refused, seconds };
}
