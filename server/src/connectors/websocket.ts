/**
 * The WebSocket connector at /ingest (frames in shared/src/protocol.ts, documented in
 * shared/src/PROTOCOL.md). It owns the `ws` server (noServer, upgrades come from the app's HTTP
 * server), the sessions, the heartbeat that reaps dead connections, and pushes commands to the
 * connection whose session a twin's messages came from.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { Logger } from 'pino';
import { CloseCode } from '@hextwin/shared/protocol';
import type { AppContext } from '../app/feature.js';
import { toCoded } from '@hextwin/shared';
import { bearer, type Auth } from '../auth/auth.js';
import type { Config } from '../config.js';
import type { CommandRecord, EngineApi, SourceRef } from '../engine/types.js';
import { ConnectorState, type Connector, type ConnectorStatus } from './connector.js';
import type { ConnectorCounters } from './connector-metrics.js';
import type { Admission, Lane } from './admission.js';
import { IngestConnection, type ConnectionHost } from './ws-connection.js';
import { SessionStore, type Session } from './ws-sessions.js';

export const WS_PATH = '/ingest';

export class WebSocketConnector implements Connector, ConnectionHost {
  readonly name = 'ws';
  readonly engine: EngineApi;
  readonly auth: Auth;
  readonly config: Config;
  readonly logger: Logger;
  readonly sessions = new SessionStore();
  private readonly wss: WebSocketServer;
  private readonly connections = new Set<IngestConnection>();
  /** session id -> the connection holding it */
  private readonly bySession = new Map<string, IngestConnection>();
  private heartbeat: NodeJS.Timeout | null = null;
  private running = false;

  constructor(
    private readonly ctx: AppContext,
    readonly counters: ConnectorCounters,
    readonly admission: Admission,
  ) {
    this.engine = ctx.engine;
    this.auth = ctx.auth;
    this.config = ctx.config;
    this.logger = ctx.logger.child({ part: 'ws' });
    this.wss = new WebSocketServer({ noServer: true, maxPayload: ctx.config.maxBodyBytes, perMessageDeflate: false, clientTracking: false });
  }

  async start(): Promise<void> {
    this.running = true;
    this.ctx.upgrade(WS_PATH, (req, socket, head) => this.upgrade(req, socket, head));
    this.heartbeat = setInterval(() => this.beat(), this.config.wsHeartbeatMs);
    this.heartbeat.unref();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.heartbeat) clearInterval(this.heartbeat);
    const closing = [...this.connections].map(
      (c) =>
        new Promise<void>((resolve) => {
          c.ws.once('close', () => resolve());
          c.ws.close(CloseCode.GoingAway, 'server shutting down');
          setTimeout(() => (c.ws.terminate(), resolve()), 1_000).unref();
        }),
    );
    await Promise.all(closing);
  }

  status(): ConnectorStatus {
    return { state: this.running ? ConnectorState.Up : ConnectorState.Stopped, connections: this.connections.size };
  }

  deliverCommand(record: CommandRecord, source: SourceRef): boolean {
    const conn = source.connection ? this.bySession.get(source.connection) : undefined;
    if (!conn || conn.closed) return false;
    conn.pushCommand(record);
    return true;
  }

  attached(conn: IngestConnection, session: Session): void {
    const previous = this.bySession.get(session.id);
    this.sessions.attach(session, conn);
    this.bySession.set(session.id, conn);
    if (previous && previous !== conn) previous.supersede();
  }

  detached(conn: IngestConnection, session: Session): void {
    this.connections.delete(conn);
    if (this.bySession.get(session.id) === conn) this.bySession.delete(session.id);
    this.sessions.release(session, conn, Date.now());
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (!this.running) return void socket.end('HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    let lane: Lane | null = null;
    const key = bearer(req.headers.authorization);
    if (key !== undefined || !this.auth.enabled) {
      try {
        lane = this.admission.open(this.auth.authenticate(key));
      } catch (e) {
        const coded = toCoded(e);
        this.counters.error(coded.code);
        if (coded.code === 'TOO_MANY_CONNECTIONS') {
          const body = JSON.stringify(coded.toJSON());
          return void socket.end(
            `HTTP/1.1 429 Too Many Requests\r\nconnection: close\r\nretry-after: 1\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
          );
        }
        return void socket.end('HTTP/1.1 401 Unauthorized\r\nconnection: close\r\nwww-authenticate: Bearer\r\ncontent-length: 0\r\n\r\n');
      }
    }
    const opened = lane;
    // the upgrade may still fail (bad handshake): the lane is released with the socket either way
    socket.once('close', () => opened?.close());
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const conn = new IngestConnection(ws, this, lane);
      this.connections.add(conn);
      ws.once('close', () => this.connections.delete(conn));
    });
  }

  /** Ping every connection; drop those that did not answer since the last beat, or stopped reading long ago. */
  private beat(): void {
    const now = Date.now();
    for (const c of this.connections) {
      if (c.stalledFor(now) > 2 * this.config.wsHeartbeatMs) {
        this.counters.deadConnections.inc();
        c.ws.terminate();
        continue;
      }
      if (c.paused) continue;
      if (!c.alive) {
        this.counters.deadConnections.inc();
        c.ws.terminate();
        continue;
      }
      c.alive = false;
      c.ws.ping();
    }
    this.sessions.sweep(now);
  }
}
