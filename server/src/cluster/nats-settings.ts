/**
 * How a node reaches NATS, from the environment: replicas of the cluster's streams and buckets,
 * credentials (one of user/password, token, creds file, nkey seed) and TLS. Validated up front so
 * a typo is a clear CONFIG_INVALID at start, not a refused connection later.
 */
import { accessSync, constants, readFileSync } from 'node:fs';
import path from 'node:path';
import { HextwinError } from '@hextwin/shared';
import { credsAuthenticator, nkeyAuthenticator, type NodeConnectionOptions } from '@nats-io/transport-node';

/** How a process logs in to NATS: plain strings, so they can also be handed to a worker thread. */
export interface NatsCredentials {
  user?: string;
  password?: string;
  token?: string;
  /** a `.creds` file (JWT + nkey seed), as `nsc` writes it */
  credsFile?: string;
  /** a file holding an nkey seed (`SU…`), or the seed itself from NATS_NKEY_SEED */
  nkeySeedFile?: string;
  nkeySeed?: string;
  tls?: { caFile?: string; certFile?: string; keyFile?: string };
}

export interface NatsSettings extends NatsCredentials {
  /** JetStream replicas of the streams and KV buckets the cluster creates (1 for a single server, 3 on a NATS cluster) */
  replicas: number;
}

type Env = Record<string, string | undefined>;

function invalid(message: string): HextwinError {
  return new HextwinError('CONFIG_INVALID', message);
}

function readableFile(env: Env, name: string): string | undefined {
  const raw = env[name];
  if (!raw) return undefined;
  const file = path.resolve(raw);
  try {
    accessSync(file, constants.R_OK);
  } catch {
    throw invalid(`${name}=${JSON.stringify(raw)}: no readable file there`);
  }
  return file;
}

export function natsSettings(env: Env): NatsSettings {
  const raw = env.NATS_REPLICAS;
  const replicas = raw === undefined || raw === '' ? 1 : Number(raw);
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > 5) {
    throw invalid(`NATS_REPLICAS=${JSON.stringify(raw)} must be a whole number from 1 to 5 (JetStream's limit; 3 on a three-server NATS cluster)`);
  }
  const s: NatsSettings = { replicas };
  if (env.NATS_USER || env.NATS_PASSWORD) {
    if (!env.NATS_USER || !env.NATS_PASSWORD) throw invalid('NATS_USER and NATS_PASSWORD go together: set both or neither');
    s.user = env.NATS_USER;
    s.password = env.NATS_PASSWORD;
  }
  if (env.NATS_TOKEN) s.token = env.NATS_TOKEN;
  const creds = readableFile(env, 'NATS_CREDS');
  if (creds) s.credsFile = creds;
  const seedFile = readableFile(env, 'NATS_NKEY_SEED_FILE');
  if (seedFile) s.nkeySeedFile = seedFile;
  if (env.NATS_NKEY_SEED) {
    if (!env.NATS_NKEY_SEED.startsWith('SU')) throw invalid('NATS_NKEY_SEED must be a user nkey seed (it starts with "SU")');
    s.nkeySeed = env.NATS_NKEY_SEED;
  }
  const ways = [s.user && 'NATS_USER', s.token && 'NATS_TOKEN', s.credsFile && 'NATS_CREDS', (s.nkeySeed || s.nkeySeedFile) && 'NATS_NKEY_SEED(_FILE)'].filter(
    Boolean,
  );
  if (ways.length > 1) throw invalid(`set one way to authenticate to NATS, not ${ways.join(' and ')}`);
  if (s.nkeySeed && s.nkeySeedFile) throw invalid('set NATS_NKEY_SEED or NATS_NKEY_SEED_FILE, not both');
  const caFile = readableFile(env, 'NATS_TLS_CA');
  const certFile = readableFile(env, 'NATS_TLS_CERT');
  const keyFile = readableFile(env, 'NATS_TLS_KEY');
  if (!!certFile !== !!keyFile) throw invalid('NATS_TLS_CERT and NATS_TLS_KEY go together (a client certificate and its key)');
  if (caFile || certFile) s.tls = { ...(caFile ? { caFile } : {}), ...(certFile ? { certFile, keyFile: keyFile! } : {}) };
  return s;
}

/** The client options that carry these settings (credentials read from their files now). */
export function connectOptions(s: Partial<NatsSettings>): Partial<NodeConnectionOptions> {
  const o: Partial<NodeConnectionOptions> = {};
  if (s.user) Object.assign(o, { user: s.user, pass: s.password ?? '' });
  if (s.token) o.token = s.token;
  if (s.credsFile) o.authenticator = credsAuthenticator(readFileSync(s.credsFile));
  const seed = s.nkeySeed ?? (s.nkeySeedFile ? readFileSync(s.nkeySeedFile, 'utf8').trim() : undefined);
  if (seed) o.authenticator = nkeyAuthenticator(new TextEncoder().encode(seed));
  if (s.tls) o.tls = { ...s.tls };
  return o;
}

/** Which way of authenticating these settings use, for logs (never the secret). */
export function authKind(s: Partial<NatsSettings>): string {
  if (s.user) return `user ${s.user}`;
  if (s.token) return 'token';
  if (s.credsFile) return `creds ${s.credsFile}`;
  if (s.nkeySeed || s.nkeySeedFile) return 'nkey';
  return 'none (or in NATS_URL)';
}
