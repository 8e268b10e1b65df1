/**
 * The far end of the loopback floors, run as a child process so that it has a core of its own:
 * holds N twins and, over HTTP (POST, one message or an array) and WebSocket (frames of one message
 * or a batch, each acknowledged), parses and applies what it receives. No durability, no validation:
 * the least any server must do.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import type { TelemetryMessage } from './twins.js';
import { apply, buildTwins } from './twins.js';

const n = Number(process.argv[2] ?? 100_000);
const twins = buildTwins(n);
let applied = 0;

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as TelemetryMessage | TelemetryMessage[];
    const list = Array.isArray(body) ? body : [body];
    for (const m of list) apply(twins, m);
    applied += list.length;
    const reply = `{"accepted":${list.length}}`;
    res.writeHead(202, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(reply) });
    res.end(reply);
  });
});

const wss = new WebSocketServer({ server, perMessageDeflate: false });
wss.on('connection', (ws) => {
  ws.on('message', (data) => {
    const frame = JSON.parse(data.toString()) as { fid: number; items?: TelemetryMessage[]; m?: TelemetryMessage };
    if (frame.items) {
      for (const m of frame.items) apply(twins, m);
      applied += frame.items.length;
    } else if (frame.m) {
      apply(twins, frame.m);
      applied++;
    }
    ws.send(`{"fid":${frame.fid}}`);
  });
});

server.listen(0, '127.0.0.1', () => {
  process.send!({ port: (server.address() as AddressInfo).port });
});
process.on('message', (m: { cmd: string }) => {
  if (m.cmd === 'applied') process.send!({ applied });
});
// the bench went away: so does this server
process.on('disconnect', () => process.exit(0));
