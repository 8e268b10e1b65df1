/**
 * For tests: a small peer that speaks the WebSocket ingest protocol of shared/src/protocol.ts over a
 * real loopback socket, acknowledging frames, de-duplicating them by session and fid, and refusing
 * or dropping them on request.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WebSocket } from 'ws';
import { WebSocketServer } from 'ws';
import type { ClientFrame, ServerFrame } from '@hextwin/shared/protocol';
import { parseClientFrame, stringifyFrame } from '@hextwin/shared/protocol';
import type { WireEnvelope } from './fleet.js';

export interface PeerOptions {
  maxBatch?: number;
  /** decide what to answer to a batch frame: ack (default), hold (no answer yet), drop (close the socket), or an error code */
  answer?: (fid: number, attempt: number) => 'ack' | 'hold' | 'drop' | 'OVERLOADED' | 'INVALID_MESSAGE';
  /** close every connection with this code right after the hello */
  closeWith?: number;
}

export class IngestPeer {
  readonly applied: WireEnvelope[] = [];
  readonly frames: ClientFrame[] = [];
  readonly hellos: { session?: string; key?: string }[] = [];
  readonly held: { ws: WebSocket; fid: number; count: number }[] = [];
  readonly sockets = new Set<WebSocket>();
  private readonly done = new Map<string, Set<number>>();
  private readonly attempts = new Map<number, number>();
  private sessions = 0;
  private constructor(
    readonly server: WebSocketServer,
    private readonly opts: PeerOptions,
  ) {
    server.on('connection', (ws) => {
      this.sockets.add(ws);
      ws.on('close', () => this.sockets.delete(ws));
      let session = '';
      ws.on('message', (data) => {
        const f = parseClientFrame(data.toString());
        this.frames.push(f);
        if (f.type === 'hello') {
          this.hellos.push({ session: f.session, key: f.key });
          session = f.session && this.done.has(f.session) ? f.session : `s${++this.sessions}`;
          if (!this.done.has(session)) this.done.set(session, new Set());
          if (opts.closeWith) return ws.close(opts.closeWith, 'refused');
          return this.send(ws, { type: 'welcome', session, maxFrameBytes: 1 << 20, maxBatch: opts.maxBatch ?? 1000 });
        }
        if (f.type !== 'batch') return;
        const fid = Number(f.fid);
        const seen = this.done.get(session)!;
        // a frame already applied in this session is acknowledged again, not applied twice
        if (seen.has(fid)) return this.send(ws, { type: 'ack', fid, accepted: f.items.length });
        const attempt = (this.attempts.get(fid) ?? 0) + 1;
        this.attempts.set(fid, attempt);
        const answer = opts.answer?.(fid, attempt) ?? 'ack';
        if (answer === 'OVERLOADED' || answer === 'INVALID_MESSAGE') return this.send(ws, { type: 'error', fid, code: answer, message: answer.toLowerCase() });
        this.applied.push(...f.items);
        seen.add(fid);
        if (answer === 'ack') this.send(ws, { type: 'ack', fid, accepted: f.items.length });
        else if (answer === 'hold') this.held.push({ ws, fid, count: f.items.length });
        else ws.terminate();
      });
    });
  }

  /** A peer listening on its own loopback port, or answering upgrades of an existing HTTP server. */
  static async start(opts: PeerOptions = {}, httpServer?: Server): Promise<IngestPeer> {
    if (httpServer) return new IngestPeer(new WebSocketServer({ server: httpServer, path: '/ingest' }), opts);
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0, path: '/ingest' });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    return new IngestPeer(server, opts);
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.server.address() as AddressInfo).port}/ingest`;
  }

  /** Messages applied for one model. */
  appliedOf(model: string): WireEnvelope[] {
    return this.applied.filter((m) => m.model === model);
  }

  send(ws: WebSocket, f: ServerFrame): void {
    ws.send(stringifyFrame(f));
  }

  release(): void {
    for (const h of this.held.splice(0)) this.send(h.ws, { type: 'ack', fid: h.fid, accepted: h.count });
  }

  close(): Promise<void> {
    for (const ws of this.sockets) ws.terminate();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
