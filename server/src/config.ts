/** Configuration from the environment (the public contract's variables), with clear errors. */
import { HextwinError } from '@hextwin/shared';
import { hostname } from 'node:os';
import path from 'node:path';
import { natsSettings, type NatsSettings } from './cluster/nats-settings.js';

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  modelsDir: string | undefined;
  maxBodyBytes: number;
  mqttUrl: string | undefined;
  natsUrl: string | undefined;
  nodeId: string;
  authFile: string | undefined;
  logLevel: string;
  /** run the built-in simulator (pnpm demo) */
  demo: boolean;
  /** load the sample models */
  sampleModels: boolean;
  /** max messages waiting in mailboxes before connectors are told to back off */
  maxQueued: number;
  /** ms between checkpoints of twin state */
  checkpointMs: number;
  /** per-connection message rate limit (messages/s), 0 = unlimited */
  rateLimit: number;
  /** directory of the built dashboard */
  webDir: string | undefined;
  /** most messages in one REST request or WebSocket frame (more: TOO_MANY_MESSAGES) */
  maxBatch: number;
  /** ms between WebSocket heartbeats; a connection silent for a whole interval after a ping is dropped */
  wsHeartbeatMs: number;
  /** MQTT client id of this server (a persistent session at the broker) */
  mqttClientId: string;
  /** JSON file listing alert webhooks: [{ url, models?, minSeverity?, headers? }] */
  alertWebhooks: string | undefined;
  /** JSON file listing event sinks (nats, ndjson, webhook, postgres); see docs/SINKS.md */
  sinksFile: string | undefined;
  /** JSON file of geofences loaded at start (GeoJSON polygons or circles); see docs/GEOFENCES.md */
  geofencesFile: string | undefined;
  /** cluster: ms after which a node that stopped heartbeating is dead and its partitions are taken over */
  clusterNodeTtlMs: number;
  /** most twins in all / per model (0: no per-model limit beyond the total) */
  maxTwins: number;
  maxTwinsPerModel: number;
  /** ms an async model batch may take before it fails with MODEL_TIMEOUT and the twin is quarantined */
  modelTimeoutMs: number;
  /** ms a synchronous model call may hold the event loop before the watchdog quarantines the twin and ends the process (0: off) */
  modelWatchdogMs: number;
  /** cluster: NATS_REPLICAS, credentials (NATS_USER/NATS_PASSWORD, NATS_TOKEN, NATS_CREDS, NATS_NKEY_SEED[_FILE]) and TLS (NATS_TLS_*) */
  nats: NatsSettings;
  /** Host names accepted besides loopback names, IP literals and HOST (lower case; '*' accepts any) */
  allowedHosts: string[];
  /** origins (scheme://host[:port]) allowed besides the server's own; '*' allows any */
  allowedOrigins: string[];
  /** development only: without AUTH_FILE, every caller is an anonymous admin (loopback only) */
  authAnonymous: boolean;
  /** the admin token used without AUTH_FILE instead of one generated into DATA_DIR */
  adminToken: string | undefined;
  /** messages a second per API key across all its connections, 0 = unlimited */
  keyRateLimit: number;
  /** open connections at most (HTTP, WebSocket) in total, and per API key */
  maxConnections: number;
  maxConnectionsPerKey: number;
  /** GraphQL abuse limits (GRAPHQL_* variables; see docs/SECURITY.md) */
  graphql: GraphqlLimits;
  /** SIMULATION_*: run the simulation models in the server, the engine on the simulation clock; undefined: real time */
  simulation: SimulationConfig | undefined;
}

export interface SimulationConfig {
  /** simulated ms per wall ms; Infinity (`max`): as fast as the steps allow */
  speed: number;
  /** epoch ms the simulation clock starts at; undefined: now */
  start: number | undefined;
  /** simulated ms after which the simulation ends; undefined: when its models end it */
  durationMs: number | undefined;
  /** simulation models to run (names); undefined: every loaded one */
  models: string[] | undefined;
}

function simulationConfig(env: Env): SimulationConfig | undefined {
  const raw = env.SIMULATION_SPEED;
  if (!raw) return undefined;
  const speed = raw === 'max' ? Infinity : Number(raw);
  if (!(speed > 0)) throw new HextwinError('CONFIG_INVALID', `SIMULATION_SPEED=${JSON.stringify(raw)} must be a number above 0 or "max"`);
  const startRaw = env.SIMULATION_START;
  const start = startRaw ? (/^\d+$/.test(startRaw) ? Number(startRaw) : Date.parse(startRaw)) : undefined;
  if (start !== undefined && !Number.isFinite(start))
    throw new HextwinError('CONFIG_INVALID', `SIMULATION_START=${JSON.stringify(startRaw)} must be an ISO 8601 time or epoch ms`);
  const durationMs = env.SIMULATION_DURATION_MS ? int(env, 'SIMULATION_DURATION_MS', 0, 1, Number.MAX_SAFE_INTEGER) : undefined;
  const models = env.SIMULATION_MODELS
    ? env.SIMULATION_MODELS.split(',')
        .map((m) => m.trim())
        .filter(Boolean)
    : undefined;
  return { speed, start, durationMs, models };
}

export interface GraphqlLimits {
  maxCost: number;
  maxRootFields: number;
  maxGroups: number;
  maxSubscriptionsPerConnection: number;
  maxSubscriptionsPerKey: number;
  /** operations a second per API key (per client address without AUTH_FILE), 0 = unlimited */
  rateLimit: number;
}

function list(env: Env, name: string): string[] {
  return (env[name] ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
}

const WILDCARD_HOSTS = ['0.0.0.0', '::', '[::]'];

type Env = Record<string, string | undefined>;

function int(env: Env, name: string, def: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new HextwinError('CONFIG_INVALID', `${name}=${JSON.stringify(raw)} must be a whole number from ${min} to ${max}`);
  }
  return n;
}

function url(env: Env, name: string, protocols: string[]): string | undefined {
  const raw = env[name];
  if (!raw) return undefined;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new HextwinError('CONFIG_INVALID', `${name}=${JSON.stringify(raw)} is not a URL`);
  }
  if (!protocols.includes(u.protocol)) throw new HextwinError('CONFIG_INVALID', `${name} must use ${protocols.join(' or ')}, got ${u.protocol}`);
  return raw;
}

/**
 * The directory relative paths resolve against: where the user ran the root script. pnpm runs a
 * package's script inside that package (server/) but sets INIT_CWD to where `pnpm` was typed; the
 * root scripts pass theirs on as HEXTWIN_START_DIR because the nested `pnpm --filter` sets
 * INIT_CWD again, to the repository root.
 */
export function startDir(env: Env = process.env): string {
  const dir = env.HEXTWIN_START_DIR || env.INIT_CWD;
  return dir ? path.resolve(dir) : process.cwd();
}

/** A path from the environment, relative ones taken from the start directory; undefined when unset. */
function pathVar(env: Env, name: string): string | undefined {
  const raw = env[name];
  return raw ? path.resolve(startDir(env), raw) : undefined;
}

function adminToken(env: Env): string | undefined {
  const t = env.ADMIN_TOKEN;
  if (!t) return undefined;
  if (t.length < 16 || /\s/.test(t)) throw new HextwinError('CONFIG_INVALID', 'ADMIN_TOKEN must be at least 16 characters without spaces');
  return t;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function loadConfig(env: Env = process.env): Config {
  const port = int(env, 'PORT', 4000, 0, 65535);
  const host = env.HOST || '127.0.0.1';
  const logLevel = env.LOG_LEVEL || 'info';
  if (!LOG_LEVELS.includes(logLevel)) throw new HextwinError('CONFIG_INVALID', `LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);
  return {
    port,
    host,
    dataDir: pathVar(env, 'DATA_DIR') ?? path.resolve(startDir(env), 'data'),
    modelsDir: pathVar(env, 'MODELS_DIR'),
    maxBodyBytes: int(env, 'MAX_BODY_BYTES', 1024 * 1024, 1024, 1024 * 1024 * 1024),
    mqttUrl: url(env, 'MQTT_URL', ['mqtt:', 'mqtts:', 'ws:', 'wss:', 'tcp:']),
    natsUrl: url(env, 'NATS_URL', ['nats:', 'tls:', 'ws:', 'wss:']),
    nodeId: env.NODE_ID || `${hostname()}-${port}`,
    authFile: pathVar(env, 'AUTH_FILE'),
    logLevel,
    demo: env.HEXTWIN_DEMO === '1',
    sampleModels: env.HEXTWIN_SAMPLE_MODELS !== '0',
    maxQueued: int(env, 'MAX_QUEUED', 500_000, 1_000, 100_000_000),
    checkpointMs: int(env, 'CHECKPOINT_MS', 2_000, 10, 3_600_000),
    rateLimit: int(env, 'RATE_LIMIT', 200_000, 0, 100_000_000),
    webDir: env.WEB_DIR || undefined,
    maxBatch: int(env, 'MAX_BATCH', 10_000, 1, 1_000_000),
    wsHeartbeatMs: int(env, 'WS_HEARTBEAT_MS', 30_000, 100, 3_600_000),
    // a cluster shares one persistent session, taken by whichever node holds the MQTT role
    mqttClientId: env.MQTT_CLIENT_ID || (env.NATS_URL ? 'hextwin-cluster' : `hextwin-${env.NODE_ID || `${hostname()}-${port}`}`),
    alertWebhooks: pathVar(env, 'ALERT_WEBHOOKS'),
    sinksFile: pathVar(env, 'SINKS_FILE'),
    geofencesFile: pathVar(env, 'GEOFENCES_FILE'),
    clusterNodeTtlMs: int(env, 'CLUSTER_NODE_TTL_MS', 3_000, 1_000, 600_000),
    maxTwins: int(env, 'MAX_TWINS', 10_000_000, 1, 1_000_000_000),
    maxTwinsPerModel: int(env, 'MAX_TWINS_PER_MODEL', 0, 0, 1_000_000_000),
    modelTimeoutMs: int(env, 'MODEL_TIMEOUT_MS', 10_000, 10, 3_600_000),
    modelWatchdogMs: int(env, 'MODEL_WATCHDOG_MS', 5_000, 0, 3_600_000),
    graphql: {
      maxCost: int(env, 'GRAPHQL_MAX_COST', 200_000, 1, 1_000_000_000),
      maxRootFields: int(env, 'GRAPHQL_MAX_ROOT_FIELDS', 50, 1, 10_000),
      maxGroups: int(env, 'GRAPHQL_MAX_GROUPS', 10_000, 1, 10_000_000),
      maxSubscriptionsPerConnection: int(env, 'GRAPHQL_MAX_SUBSCRIPTIONS_PER_CONNECTION', 50, 1, 100_000),
      maxSubscriptionsPerKey: int(env, 'GRAPHQL_MAX_SUBSCRIPTIONS_PER_KEY', 500, 1, 1_000_000),
      rateLimit: int(env, 'GRAPHQL_RATE_LIMIT', 300, 0, 100_000_000),
    },
    nats: natsSettings(env),
    // binding every interface means answering to names we cannot know: any Host unless listed
    allowedHosts: env.ALLOWED_HOSTS ? list(env, 'ALLOWED_HOSTS') : WILDCARD_HOSTS.includes(host) ? ['*'] : [],
    allowedOrigins: list(env, 'ALLOWED_ORIGINS').map((o) => {
      if (o === '*') return o;
      try {
        const u = new URL(o);
        if (u.origin !== 'null') return u.origin;
      } catch {
        // reported below
      }
      throw new HextwinError('CONFIG_INVALID', `ALLOWED_ORIGINS: ${JSON.stringify(o)} is not an origin such as https://ops.example.com`);
    }),
    authAnonymous: env.AUTH_ANONYMOUS === '1',
    adminToken: adminToken(env),
    keyRateLimit: int(env, 'KEY_RATE_LIMIT', 500_000, 0, 100_000_000),
    maxConnections: int(env, 'MAX_CONNECTIONS', 10_000, 1, 10_000_000),
    maxConnectionsPerKey: int(env, 'MAX_CONNECTIONS_PER_KEY', 1_000, 1, 10_000_000),
    simulation: simulationConfig(env),
  };
}
