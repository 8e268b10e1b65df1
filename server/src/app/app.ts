/**
 * The server: one HTTP server on one port carrying every surface (REST and WebSocket ingest,
 * GraphQL and its subscriptions, health and metrics, the dashboard), around one engine.
 */
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import pino, { type Logger } from 'pino';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { HextwinError, toCoded, type ModelDefinition } from '@hextwin/shared';
import type { Config } from '../config.js';
import { Engine } from '../engine/engine.js';
import { RealClock, SimulationClock, type Clock } from '../engine/clock.js';
import type { EngineMetrics } from '../engine/metrics.js';
import type { EngineApi } from '../engine/types.js';
import { ClusterNode } from '../cluster/cluster-node.js';
import { clusterFeature } from '../cluster/feature.js';
import { Recorder } from '../recording/recorder.js';
import { recordingFeature } from '../recording/feature.js';
import { LmdbStore } from '../store/lmdb-store.js';
import type { TwinStore } from '../store/store.js';
import { openAuth } from '../auth/auth.js';
import type { AppContext, Feature, FeatureHandle, ScenarioRegistry } from './feature.js';
import { Router } from './router.js';
import { sendError } from './http-errors.js';
import { HttpGuard, setSecurityHeaders } from './http-guard.js';
import { healthFeature } from './health.js';
import { loopMonitorFeature } from './loop-monitor.js';
import { dashboardFeature } from './dashboard.js';
import { graphqlFeature } from '../api/graphql/feature.js';
import { simulatorFeature } from '../simulator/feature.js';
import { simulationFeature } from '../simulator/simulation-feature.js';
import { splitModels } from '../simulator/simulation.js';
import { alertWebhooksFeature, connectorsFeature } from '../connectors/index.js';
import { sinksFeature } from '../sinks/index.js';
import { Geofences, geofenceFeature } from '../geofence/index.js';

/** The surfaces, in start order. Adding a surface is one line here. */
export const features: Feature[] = [
  graphqlFeature,
  dashboardFeature,
  connectorsFeature,
  alertWebhooksFeature,
  geofenceFeature,
  sinksFeature(),
  simulatorFeature,
  simulationFeature,
  clusterFeature,
  recordingFeature,
];

export interface AppOptions {
  models: ModelDefinition[];
  logger?: Logger;
  clock?: Clock;
  store?: TwinStore;
  /** replaces the default feature list (tests) */
  features?: Feature[];
}

/** The engine the server runs: the embedded Engine, or a ClusterNode when NATS_URL is set. */
export type HostedEngine = EngineApi & {
  readonly metrics: EngineMetrics;
  /** set when the state store failed: the process must stop serving */
  readonly failure: Error | null;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** resolves when this process's mailboxes are empty */
  idle(): Promise<void>;
};

export interface App {
  readonly engine: HostedEngine;
  /** the cluster node, when NATS_URL is set */
  readonly cluster: ClusterNode | undefined;
  readonly server: http.Server;
  readonly logger: Logger;
  readonly context: AppContext;
  /** e.g. http://127.0.0.1:4000 */
  readonly url: string;
  stop(): Promise<void>;
}

function scenarioRegistry(): ScenarioRegistry {
  const map = new Map<string, { description: string; run: () => Promise<void> }>();
  return {
    register: (name, description, run) => void map.set(name, { description, run }),
    list: () => [...map].map(([name, s]) => ({ name, description: s.description })),
    async trigger(name) {
      const s = map.get(name);
      if (!s) throw new HextwinError('NOT_FOUND', `no scenario named ${JSON.stringify(name)}`);
      await s.run();
    },
  };
}

export async function startApp(config: Config, opts: AppOptions): Promise<App> {
  const logger = opts.logger ?? pino({ level: config.logLevel, base: { node: config.nodeId } });
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'hextwin_' });
  if (config.authAnonymous && config.authFile) throw new HextwinError('CONFIG_INVALID', 'AUTH_ANONYMOUS=1 and AUTH_FILE exclude each other');
  const auth = openAuth(config.authFile, { anonymous: config.authAnonymous, adminToken: config.adminToken, dataDir: config.dataDir });
  if (!auth.enabled) {
    if (config.host !== '127.0.0.1' && config.host !== 'localhost' && config.host !== '::1') {
      throw new HextwinError('CONFIG_INVALID', `HOST=${config.host} with AUTH_ANONYMOUS=1 would expose an unauthenticated server; bind 127.0.0.1`);
    }
    logger.warn('AUTH_ANONYMOUS=1: authentication is off (development only), so the server binds to loopback only');
  }
  const guard = new HttpGuard(config);
  // simulation models step in the simulation feature; with SIMULATION_SPEED the engine runs on its clock
  const realtime = splitModels(opts.models).realtime;
  const clock = opts.clock ?? (config.simulation ? new SimulationClock(config.simulation.start ?? Date.now(), config.simulation.speed) : new RealClock());
  const cluster = config.natsUrl
    ? new ClusterNode({
        natsUrl: config.natsUrl,
        nodeId: config.nodeId,
        models: realtime,
        logger,
        registry,
        clock: opts.clock,
        checkpointMs: config.checkpointMs,
        maxQueued: config.maxQueued,
        baseDir: config.modelsDir ?? process.cwd(),
        nodeTtlMs: config.clusterNodeTtlMs,
        nats: config.nats,
        modelTimeoutMs: config.modelTimeoutMs,
        modelWatchdogMs: config.modelWatchdogMs,
        dataDir: config.dataDir,
      })
    : undefined;
  const engine: HostedEngine =
    cluster ??
    new Engine({
      store: opts.store ?? new LmdbStore(config.dataDir),
      clock,
      models: realtime,
      logger: logger.child({ part: 'engine' }),
      registry,
      maxQueued: config.maxQueued,
      checkpointMs: config.checkpointMs,
      baseDir: config.modelsDir ?? process.cwd(),
      maxTwins: config.maxTwins,
      maxTwinsPerModel: config.maxTwinsPerModel,
      modelAsyncTimeoutMs: config.modelTimeoutMs,
      modelWatchdogMs: opts.store ? 0 : config.modelWatchdogMs,
      stateDir: config.dataDir,
    });

  const router = new Router();
  const checks = new Map<string, () => string | null>();
  const connectorStatus = new Map<string, () => { state: string; connections: number }>();
  checks.set('engine', () =>
    engine.failure ? `store failed: ${engine.failure.message}` : engine.ready ? null : (cluster?.notReadyReason() ?? 'restoring state'),
  );
  const server = http.createServer({ requestTimeout: 60_000, headersTimeout: 20_000, keepAliveTimeout: 65_000 });
  // every TCP connection counts (HTTP keep-alive and WebSocket): beyond MAX_CONNECTIONS a new one gets a coded 429 and is closed
  let open = 0;
  server.on('connection', (socket) => {
    if (open >= config.maxConnections) {
      engine.metrics.errors.labels('TOO_MANY_CONNECTIONS').inc();
      const body = JSON.stringify(new HextwinError('TOO_MANY_CONNECTIONS', `more than ${config.maxConnections} open connections (MAX_CONNECTIONS)`).toJSON());
      socket.end(
        `HTTP/1.1 429 Too Many Requests\r\nconnection: close\r\nretry-after: 1\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
      setTimeout(() => socket.destroy(), 2_000).unref();
      return;
    }
    open++;
    socket.once('close', () => open--);
  });

  const context: AppContext = {
    config,
    engine,
    clock,
    models: opts.models,
    logger,
    metrics: registry,
    auth,
    route: (prefix, handler) => router.route(prefix, handler),
    upgrade: (path, handler) => router.upgrade(path, handler),
    readyCheck: (name, check) => void checks.set(name, check),
    connectorStatus: (name, status) => void connectorStatus.set(name, status),
    connectors: () => [...connectorStatus].map(([name, s]) => ({ name, ...s() })),
    scenarios: scenarioRegistry(),
    simulation: { current: undefined },
    recorder: new Recorder(path.join(config.dataDir, 'recordings'), engine, logger.child({ part: 'recording' })),
    geofences: new Geofences(engine, { file: config.geofencesFile, dataDir: config.dataDir, logger: logger.child({ part: 'geofence' }) }),
    countError: (code) => engine.metrics.errors.labels(code).inc(),
  };

  server.on('request', (req, res) => {
    setSecurityHeaders(req, res);
    try {
      guard.check(req);
    } catch (e) {
      handleFailure(e, res);
      return;
    }
    const handler = router.match(req);
    if (!handler) {
      sendError(res, new HextwinError('NOT_FOUND'));
      return;
    }
    try {
      const r = handler(req, res);
      if (r && typeof (r as Promise<void>).catch === 'function') (r as Promise<void>).catch((e) => handleFailure(e, res));
    } catch (e) {
      handleFailure(e, res);
    }
  });
  const handleFailure = (e: unknown, res: http.ServerResponse) => {
    const coded = sendError(res, e);
    engine.metrics.errors.labels(coded.code).inc();
    if (coded.code === 'INTERNAL') logger.error({ err: e }, 'request failed');
  };
  server.on('upgrade', (req, socket, head) => {
    try {
      guard.check(req);
    } catch (e) {
      engine.metrics.errors.labels('ORIGIN_NOT_ALLOWED').inc();
      const body = JSON.stringify(toCoded(e).toJSON());
      socket.end(`HTTP/1.1 403 Forbidden\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      return;
    }
    if (!router.handleUpgrade(req, socket, head)) {
      socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    }
  });
  server.on('clientError', (_err, socket) => {
    engine.metrics.errors.labels('BAD_REQUEST').inc();
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
  });

  const handles: FeatureHandle[] = [];
  for (const f of [healthFeature(checks), loopMonitorFeature, ...(opts.features ?? features)]) {
    const h = await f.start(context);
    if (h) handles.push(h);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${addr.port}`;
  logger.info({ url }, 'listening; restoring state');

  cluster?.advertise(url);
  await engine.start();
  logger.info({ url, twins: engine.twinCount(), models: opts.models.map((m) => m.name) }, 'ready');
  if (auth.mode === 'token') {
    // the fragment never leaves the browser: the dashboard takes the token from it and forgets the URL
    logger.warn(
      { url, dashboard: `${url}/#token=${auth.adminToken}`, tokenFile: config.adminToken ? undefined : `${config.dataDir}/admin-token` },
      `no AUTH_FILE: admin token ${auth.adminToken} (send "Authorization: Bearer <token>"; open the dashboard link to sign in)`,
    );
  }

  let stopping: Promise<void> | null = null;
  return {
    engine,
    cluster,
    server,
    logger,
    context,
    url,
    stop() {
      stopping ??= (async () => {
        for (const h of handles.reverse()) await h.stop().catch((e) => logger.error({ err: e }, 'feature stop failed'));
        server.closeIdleConnections();
        const closed = new Promise<void>((r) => server.close(() => r()));
        setTimeout(() => server.closeAllConnections(), 2_000).unref();
        await engine.stop();
        await closed;
      })();
      return stopping;
    },
  };
}
