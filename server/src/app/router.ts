/** Path-prefix routing for HTTP requests and exact-path routing for WebSocket upgrades. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { HttpHandler, UpgradeHandler } from './feature.js';

export class Router {
  private routes: { prefix: string; handler: HttpHandler }[] = [];
  private upgrades = new Map<string, UpgradeHandler>();

  route(prefix: string, handler: HttpHandler): void {
    this.routes.push({ prefix, handler });
    this.routes.sort((a, b) => b.prefix.length - a.prefix.length);
  }

  upgrade(path: string, handler: UpgradeHandler): void {
    this.upgrades.set(path, handler);
  }

  /** The handler for a request, or undefined. */
  match(req: IncomingMessage): HttpHandler | undefined {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    for (const r of this.routes) {
      if (path === r.prefix || path.startsWith(r.prefix.endsWith('/') ? r.prefix : r.prefix + '/') || r.prefix === '/') return r.handler;
    }
    return undefined;
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const h = this.upgrades.get(q < 0 ? url : url.slice(0, q));
    if (!h) return false;
    h(req, socket, head);
    return true;
  }

  static async run(handler: HttpHandler, req: IncomingMessage, res: ServerResponse): Promise<void> {
    await handler(req, res);
  }
}
