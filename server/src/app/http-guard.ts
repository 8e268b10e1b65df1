/**
 * What every HTTP request and WebSocket upgrade passes before routing (docs/SECURITY.md):
 * - Host: a loopback name, an IP literal, HOST, or one of ALLOWED_HOSTS. A DNS-rebinding page
 *   reaches us under its own domain name, so an unknown name is refused.
 * - Origin (sent by browsers): the server's own origin, or one of ALLOWED_ORIGINS. Another web page
 *   cannot drive the API from a visitor's browser, even with simple (CORS-less) requests.
 * And the headers every answer carries: no sniffing, no framing, no referrer; a Content-Security-Policy.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { HextwinError } from '@hextwin/shared';
import type { Config } from '../config.js';

/** The host name of a Host header value, lower case, without port or IPv6 brackets. */
export function hostName(host: string): string {
  const h = host.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return end < 0 ? h : h.slice(1, end);
  }
  const colon = h.lastIndexOf(':');
  return colon < 0 ? h : h.slice(0, colon);
}

export class HttpGuard {
  private readonly anyHost: boolean;
  private readonly hosts: Set<string>;
  private readonly anyOrigin: boolean;
  private readonly origins: Set<string>;

  constructor(config: Pick<Config, 'host' | 'allowedHosts' | 'allowedOrigins'>) {
    this.anyHost = config.allowedHosts.includes('*');
    this.hosts = new Set(['localhost', ...config.allowedHosts.map(hostName), hostName(config.host)]);
    this.anyOrigin = config.allowedOrigins.includes('*');
    this.origins = new Set(config.allowedOrigins);
  }

  /** Throws ORIGIN_NOT_ALLOWED when the request's Host or Origin is not accepted. */
  check(req: IncomingMessage): void {
    const host = req.headers.host;
    if (!host) throw new HextwinError('ORIGIN_NOT_ALLOWED', 'the request has no Host header');
    if (!this.hostAllowed(hostName(host))) {
      throw new HextwinError('ORIGIN_NOT_ALLOWED', `Host ${JSON.stringify(host.slice(0, 100))} is not served here; list it in ALLOWED_HOSTS`);
    }
    const origin = req.headers.origin;
    if (origin === undefined || this.anyOrigin) return;
    if (this.origins.has(origin.toLowerCase()) || sameOrigin(origin, host)) return;
    throw new HextwinError('ORIGIN_NOT_ALLOWED', `requests from ${JSON.stringify(origin.slice(0, 100))} are not allowed; list the origin in ALLOWED_ORIGINS`);
  }

  private hostAllowed(name: string): boolean {
    // an IP literal cannot be a rebinding: the page's origin is then that address itself
    return this.anyHost || this.hosts.has(name) || name.endsWith('.localhost') || isIP(name) !== 0;
  }
}

/** Whether a browser's Origin names the host the request was sent to (any scheme: TLS may end at a proxy). */
function sameOrigin(origin: string, host: string): boolean {
  let u: URL;
  try {
    u = new URL(origin);
  } catch {
    return false; // "null" (sandboxed frames, file:) and garbage
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return false;
  const h = host.trim().toLowerCase();
  return u.host === h || (u.port === '' && (u.hostname === h || `${u.hostname}:${u.protocol === 'https:' ? 443 : 80}` === h));
}

/**
 * The dashboard's policy: its own scripts only, MapLibre's worker (a same-origin file, blob: as
 * fallback), map images as blob:/data:, Svelte's inline styles, GraphQL over the same origin (HTTP and
 * WebSocket), and https: for the tiles, glyphs and sprites of an online basemap style the operator picks.
 */
function dashboardPolicy(req: IncomingMessage): string {
  const raw = req.headers.host ?? '';
  const host = /^[A-Za-z0-9.:[\]-]+$/.test(raw) ? raw : 'localhost';
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob: https:",
    "font-src 'self' data:",
    `connect-src 'self' ws://${host} wss://${host} https:`,
    "worker-src 'self' blob:",
    "child-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

const API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
const API_PREFIXES = ['/api/', '/graphql', '/ingest', '/healthz', '/readyz', '/metrics'];

/** Security headers on every answer; the dashboard's paths get the policy a MapLibre page needs. */
export function setSecurityHeaders(req: IncomingMessage, res: ServerResponse): void {
  const url = req.url ?? '/';
  const api = API_PREFIXES.some((p) => url.startsWith(p));
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('x-frame-options', 'DENY');
  res.setHeader('referrer-policy', 'no-referrer');
  res.setHeader('content-security-policy', api ? API_POLICY : dashboardPolicy(req));
  res.setHeader('cross-origin-opener-policy', 'same-origin');
}
