/** Writing coded errors and JSON to HTTP responses, the same way on every route. */
import type { ServerResponse } from 'node:http';
import { toCoded, type HextwinError } from '@hextwin/shared';

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** Answer with the error's code and status; unexpected errors are masked as INTERNAL. */
export function sendError(res: ServerResponse, e: unknown, headers: Record<string, string> = {}): HextwinError {
  const coded = toCoded(e);
  if (!res.headersSent) sendJson(res, coded.status, coded.toJSON(), headers);
  else res.destroy();
  return coded;
}
