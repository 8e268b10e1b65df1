/**
 * What a readable record of each LMDB database looks like: each check returns why a decoded value
 * cannot be used by the server (a reason), or undefined when it can. The same decoders the server
 * runs at start (msgpack, the twin codec, raw request bodies) are applied, so a record that passes
 * here restores.
 */
import { keyString } from '@hextwin/shared';
import { decodeRaw } from '../store/raw-batch.js';
import type { LogRecord } from '../store/store.js';

type Check = (key: string | number, value: unknown) => string | undefined;

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const isCount = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v >= 0;

function twinKeyReason(key: string | number, v: Record<string, unknown>): string | undefined {
  if (typeof v.model !== 'string' || !v.model) return 'model is not a name';
  if (typeof v.id !== 'string' || !v.id) return 'id is not a string';
  if (keyString(v.model, v.id) !== key) return `key does not match ${JSON.stringify(keyString(v.model, v.id))}`;
  return undefined;
}

export const logRecord: Check = (key, value) => {
  if (!isObject(value)) return 'not a log record';
  if (value.pos !== key) return `pos ${JSON.stringify(value.pos)} does not match its key`;
  if (!Array.isArray(value.envelopes)) return 'envelopes is not a list';
  if (value.hops !== undefined && !isCount(value.hops)) return 'hops is not a count';
  if (value.control !== undefined && value.control !== 'remove') return `unknown control ${JSON.stringify(value.control)}`;
  let envelopes: unknown[] = value.envelopes;
  if (value.raw !== undefined) {
    try {
      envelopes = decodeRaw((value as unknown as LogRecord).raw!);
    } catch (e) {
      return `its request body does not parse: ${(e as Error).message}`;
    }
  }
  for (let i = 0; i < envelopes.length; i++) {
    const e = envelopes[i];
    if (!isObject(e) || typeof e.model !== 'string' || typeof e.id !== 'string') return `envelope ${i} has no model and id`;
  }
  return undefined;
};

export const twinRecord: Check = (key, value) => {
  if (!isObject(value)) return 'not a twin record';
  const k = twinKeyReason(key, value);
  if (k) return k;
  for (const f of ['lastPos', 'version'] as const) if (!isCount(value[f])) return `${f} is not a count`;
  if (value.timers !== undefined && !Array.isArray(value.timers)) return 'timers is not a list';
  return undefined;
};

export const tombstone: Check = (key, value) => {
  if (!isObject(value)) return 'not a tombstone';
  return twinKeyReason(key, value) ?? (isCount(value.lastPos) ? undefined : 'lastPos is not a count');
};

export const meta: Check = (key, value) => {
  if (key !== 'checkpoint') return undefined;
  if (!isObject(value) || !isCount(value.nextPos) || !isCount(value.truncateBelow)) return 'not a checkpoint meta record';
  return undefined;
};

/** A quarantine entry (table or watchdog note): the twin, or '*' for its whole model. */
export const quarantineRecord: Check = (_key, value) => {
  if (!isObject(value) || typeof value.model !== 'string' || typeof value.id !== 'string') return 'not a quarantine record (model, id)';
  return undefined;
};

/** Any other table: decoding is the whole check. */
export const anyValue: Check = () => undefined;
