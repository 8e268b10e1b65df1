/**
 * Effects of a batch that succeeded: validated first, all or nothing, then carried out. A model
 * can ask for anything through its context (a log level that does not exist, an alert whose data
 * is a cycle, a command nested too deep); such a request fails that batch with INVALID_EFFECT,
 * like a throw, and never reaches the logger or the store.
 */
import { HextwinError } from '@hextwin/shared';
import type { Effects } from './context.js';

const LOG_LEVELS = new Set(['debug', 'info', 'warn', 'error']);
/** nesting and size allowed in alert data, commands and twin-to-twin messages */
export const MAX_EFFECT_DEPTH = 64;
export const MAX_EFFECT_BYTES = 256 * 1024;
const MAX_TEXT = 8 * 1024;

function invalid(what: string): never {
  throw new HextwinError('INVALID_EFFECT', what);
}

/** Throws INVALID_EFFECT unless `v` is plain JSON within the depth and size limits. */
export function checkJson(v: unknown, what: string): void {
  let size = 0;
  const walk = (x: unknown, depth: number): void => {
    if (depth > MAX_EFFECT_DEPTH) invalid(`${what} nests more than ${MAX_EFFECT_DEPTH} levels`);
    if (++size > MAX_EFFECT_BYTES) invalid(`${what} is larger than ${MAX_EFFECT_BYTES} values`);
    if (x === null || typeof x === 'boolean') return;
    if (typeof x === 'number') {
      if (!Number.isFinite(x)) invalid(`${what} holds a number that is not finite`);
      return;
    }
    if (typeof x === 'string') {
      size += x.length >> 3;
      if (size > MAX_EFFECT_BYTES) invalid(`${what} is larger than ${MAX_EFFECT_BYTES} bytes`);
      return;
    }
    if (Array.isArray(x)) {
      for (let i = 0; i < x.length; i++) walk(x[i], depth + 1);
      return;
    }
    if (typeof x === 'object') {
      const proto = Object.getPrototypeOf(x);
      if (proto !== Object.prototype && proto !== null)
        invalid(`${what} holds a ${proto?.constructor?.name ?? 'non-plain'} object; only JSON values can be sent`);
      for (const k in x as Record<string, unknown>) walk((x as Record<string, unknown>)[k], depth + 1);
      return;
    }
    invalid(`${what} holds a ${typeof x}; only JSON values can be sent`);
  };
  walk(v, 0);
}

const text = (v: unknown, max = MAX_TEXT): string => {
  const s = typeof v === 'string' ? v : String(v);
  return s.length > max ? s.slice(0, max) + '…' : s;
};

/** Validate a batch's effects in place (texts made strings and bounded); throws INVALID_EFFECT. */
export function validateEffects(fx: Effects): void {
  if (fx.logs) {
    for (const l of fx.logs) {
      if (!LOG_LEVELS.has(l.level)) invalid(`log level ${JSON.stringify(String(l.level))} is not one of debug, info, warn, error`);
      l.text = text(l.text);
    }
  }
  if (fx.alerts) {
    for (const a of fx.alerts) {
      if (typeof a !== 'object' || a === null) invalid('an alert must be an object');
      if ('clear' in a) continue;
      a.title = text(a.title, 512);
      if (a.message !== undefined && a.message !== null) a.message = text(a.message);
      if (a.data !== undefined) checkJson(a.data, 'alert data');
    }
  }
  if (fx.commands) for (const c of fx.commands) checkJson(c, 'a command');
  if (fx.messages) for (const m of fx.messages) checkJson(m.message, `a message to ${m.model}/${m.id}`);
}
