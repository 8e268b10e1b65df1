/**
 * Who may call the server. Three modes:
 *   keys       AUTH_FILE lists API keys and roles (below).
 *   token      no AUTH_FILE (the default): one admin token, ADMIN_TOKEN or generated once into
 *              DATA_DIR/admin-token (mode 0600) and printed in the start log.
 *   anonymous  AUTH_ANONYMOUS=1 without AUTH_FILE (development): every caller is an admin; loopback only.
 * Keys are stored as SHA-256 hashes, never in clear.
 *
 * AUTH_FILE (JSON):
 *   { "keys": [ { "name": "ops", "sha256": "<hex of sha256(key)>", "role": "operator" },
 *               { "name": "meter-7", "sha256": "...", "role": "device", "twins": ["gas-sensor/meter-7*"] } ] }
 * Roles: device (writes its own twins, reads their commands), viewer (reads), operator (reads and
 * runs mutations), admin (everything). `twins` patterns are `model/id` with `*` wildcards.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { HextwinError } from '@hextwin/shared';

export const Roles = ['device', 'viewer', 'operator', 'admin'] as const;
export type Role = (typeof Roles)[number];

export interface Principal {
  name: string;
  role: Role;
  /** may this principal send messages to (and read commands of) this twin? */
  canWrite(model: string, id: string): boolean;
  canRead: boolean;
  canMutate: boolean;
}

export type AuthMode = 'keys' | 'token' | 'anonymous';

export interface Auth {
  readonly mode: AuthMode;
  /** false in anonymous mode only: every caller is an anonymous admin (bound to loopback). */
  readonly enabled: boolean;
  /** token mode: the admin token (printed at start for the operator's first sign-in) */
  readonly adminToken?: string;
  /** The principal for a presented key, or throws UNAUTHENTICATED. */
  authenticate(key: string | undefined | null): Principal;
}

interface KeyEntry {
  name: string;
  hash: Buffer;
  role: Role;
  patterns: GlobPattern[] | null;
}

const ANONYMOUS: Principal = { name: 'anonymous', role: 'admin', canWrite: () => true, canRead: true, canMutate: true };

export function hashKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/**
 * A `*` glob, matched in time linear in the subject: the pieces between stars are found left to
 * right, each at its first place after the previous one (for `*`-only globs the leftmost place is
 * always a right choice), so nothing is ever tried twice — unlike a `.*` regular expression, which
 * backtracks polynomially in the number of stars.
 */
export class GlobPattern {
  private readonly pieces: string[];

  constructor(readonly glob: string) {
    this.pieces = glob.split('*');
  }

  test(s: string): boolean {
    const p = this.pieces;
    const first = p[0]!;
    if (p.length === 1) return s === first;
    const last = p[p.length - 1]!;
    if (s.length < first.length + last.length || !s.startsWith(first) || !s.endsWith(last)) return false;
    let at = first.length;
    const end = s.length - last.length;
    for (let i = 1; i < p.length - 1; i++) {
      const piece = p[i]!;
      if (!piece) continue;
      const found = s.indexOf(piece, at);
      if (found < 0 || found + piece.length > end) return false;
      at = found + piece.length;
    }
    return true;
  }
}

function principalOf(e: KeyEntry): Principal {
  const patterns = e.patterns;
  return {
    name: e.name,
    role: e.role,
    canRead: e.role !== 'device',
    canMutate: e.role === 'operator' || e.role === 'admin',
    canWrite:
      e.role === 'device'
        ? (model, id) => patterns !== null && patterns.some((p) => p.test(model + '/' + id))
        : () => e.role === 'operator' || e.role === 'admin',
  };
}

export interface AuthOptions {
  /** AUTH_ANONYMOUS=1 */
  anonymous?: boolean;
  /** ADMIN_TOKEN */
  adminToken?: string;
  /** where a generated admin token is kept (DATA_DIR) */
  dataDir?: string;
}

export const ADMIN_TOKEN_FILE = 'admin-token';

/** The admin token of token mode: ADMIN_TOKEN, else the one kept in DATA_DIR, else a new one written there (0600). */
function loadAdminToken(opts: AuthOptions): string {
  if (opts.adminToken) return opts.adminToken;
  if (!opts.dataDir) throw new HextwinError('CONFIG_INVALID', 'without AUTH_FILE the server needs DATA_DIR to keep its admin token');
  const file = path.join(opts.dataDir, ADMIN_TOKEN_FILE);
  try {
    const kept = readFileSync(file, 'utf8').trim();
    if (kept.length >= 16) return kept;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new HextwinError('CONFIG_INVALID', `${file}: ${(e as Error).message}`, { cause: e });
  }
  const token = 'hxt_' + randomBytes(24).toString('base64url');
  try {
    mkdirSync(opts.dataDir, { recursive: true });
    writeFileSync(file, token + '\n', { mode: 0o600 });
    chmodSync(file, 0o600);
  } catch (e) {
    throw new HextwinError('CONFIG_INVALID', `cannot write the admin token to ${file}: ${(e as Error).message}`, { cause: e });
  }
  return token;
}

function tokenAuth(token: string): Auth {
  const hash = createHash('sha256').update(token, 'utf8').digest();
  const admin: Principal = { ...ANONYMOUS, name: 'admin-token' };
  return {
    mode: 'token',
    enabled: true,
    adminToken: token,
    authenticate(key) {
      if (!key)
        throw new HextwinError(
          'UNAUTHENTICATED',
          'A valid API key is required: the admin token is printed in the server log and kept in DATA_DIR/admin-token.',
        );
      if (timingSafeEqual(hash, createHash('sha256').update(key, 'utf8').digest())) return admin;
      throw new HextwinError('UNAUTHENTICATED', 'The API key is not known.');
    },
  };
}

export function openAuth(file: string | undefined, opts: AuthOptions = {}): Auth {
  if (!file) return opts.anonymous ? { mode: 'anonymous', enabled: false, authenticate: () => ANONYMOUS } : tokenAuth(loadAdminToken(opts));
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new HextwinError('CONFIG_INVALID', `AUTH_FILE ${file}: ${(e as Error).message}`);
  }
  const keys = (parsed as { keys?: unknown }).keys;
  if (!Array.isArray(keys)) throw new HextwinError('CONFIG_INVALID', `AUTH_FILE ${file}: expected {"keys": [...]}`);
  const entries: KeyEntry[] = keys.map((k: Record<string, unknown>, i: number) => {
    const where = `AUTH_FILE ${file}: keys[${i}]`;
    if (typeof k.sha256 !== 'string' || !/^[0-9a-f]{64}$/i.test(k.sha256)) throw new HextwinError('CONFIG_INVALID', `${where}.sha256 must be 64 hex digits`);
    if (!Roles.includes(k.role as Role)) throw new HextwinError('CONFIG_INVALID', `${where}.role must be one of ${Roles.join(', ')}`);
    const twins = k.twins;
    if (twins !== undefined && !(Array.isArray(twins) && twins.every((t) => typeof t === 'string')))
      throw new HextwinError('CONFIG_INVALID', `${where}.twins must be a list of "model/id" patterns`);
    return {
      name: typeof k.name === 'string' ? k.name : `key-${i}`,
      hash: Buffer.from(k.sha256.toLowerCase(), 'hex'),
      role: k.role as Role,
      patterns: twins ? (twins as string[]).map((t) => new GlobPattern(t)) : null,
    };
  });
  const principals = new Map<string, Principal>();
  for (const e of entries) principals.set(e.hash.toString('hex'), principalOf(e));
  return {
    mode: 'keys',
    enabled: true,
    authenticate(key) {
      if (!key) throw new HextwinError('UNAUTHENTICATED');
      const h = createHash('sha256').update(key, 'utf8').digest();
      for (const e of entries) {
        if (timingSafeEqual(e.hash, h)) return principals.get(e.hash.toString('hex'))!;
      }
      throw new HextwinError('UNAUTHENTICATED', 'The API key is not known.');
    },
  };
}

/** The bearer token of an Authorization header, if any. */
export function bearer(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer\s+(.+)$/i.exec(header.trim());
  return m ? m[1] : undefined;
}
