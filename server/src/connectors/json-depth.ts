/**
 * A guard against deeply nested JSON. JSON.parse copes with any depth, but encoders and validators
 * further on recurse: one message nested a few thousand levels deep would overflow the stack when
 * the durable log encodes it, failing the store for everyone. Connectors refuse such input before
 * parsing, with a scan of the raw bytes that costs far less than the parse.
 */
import { HextwinError } from '@hextwin/shared';

/** Nesting allowed in one request body, frame or payload (objects and arrays, all levels). */
export const MAX_JSON_DEPTH = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;

/** True when the JSON text in `buf` nests objects/arrays deeper than `max` (strings are skipped). */
export function nestsDeeperThan(buf: Uint8Array, max = MAX_JSON_DEPTH): boolean {
  // too short to nest that deep: skip the scan
  if (buf.length <= max * 2) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i]!;
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > max) return true;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth--;
  }
  return false;
}

/** Throws INVALID_MESSAGE when the input nests deeper than MAX_JSON_DEPTH. */
export function checkDepth(buf: Uint8Array, what: string): void {
  if (nestsDeeperThan(buf)) throw new HextwinError('INVALID_MESSAGE', `${what} nests objects or arrays more than ${MAX_JSON_DEPTH} levels deep`);
}
