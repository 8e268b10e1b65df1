/**
 * Reads an HTTP request body with a hard size cap: a declared content-length over the cap is
 * refused before reading anything, and a streamed body is refused as soon as it passes the cap,
 * without buffering the rest.
 */
import type { IncomingMessage } from 'node:http';
import { HextwinError } from '@hextwin/shared';

export function tooLarge(max: number): HextwinError {
  return new HextwinError('PAYLOAD_TOO_LARGE', `the body is larger than ${max} bytes (MAX_BODY_BYTES)`);
}

/** The whole body, or rejects with PAYLOAD_TOO_LARGE (the caller answers 413 and closes the connection). */
export function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > max) return Promise.reject(tooLarge(max));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        finish();
        chunks.length = 0;
        reject(tooLarge(max));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      finish();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onError = (e: Error) => {
      finish();
      reject(new HextwinError('BAD_REQUEST', `the request body could not be read: ${e.message}`, { cause: e }));
    };
    const finish = () => {
      if (done) return;
      done = true;
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

/**
 * After refusing a body mid-stream (the answer carries `connection: close`): discard, never buffer,
 * what the client still sends, and close gently. Node would destroy the socket as soon as the answer
 * is written; unread incoming bytes would then turn into a TCP reset that can wipe the answer from
 * the client's buffer before it reads it. So half-close first and drop the socket a little later.
 */
export function abandonBody(req: IncomingMessage, lingerMs = 2_000): void {
  req.resume();
  const socket = req.socket as IncomingMessage['socket'] & { destroySoon?: () => void };
  socket.destroySoon = () => {
    socket.end();
    setTimeout(() => socket.destroy(), lingerMs).unref();
  };
}
