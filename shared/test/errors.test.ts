import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ErrorCodes, HextwinError, toCoded } from '../src/errors.js';

describe('Error registry', () => {
  it('documents every code with its status in docs/ERRORS.md, and nothing else', () => {
    const doc = readFileSync(new URL('../../docs/ERRORS.md', import.meta.url), 'utf8');
    const rows = [...doc.matchAll(/^\|\s*`([A-Z_]+)`\s*\|\s*(\d{3})\s*\|/gm)].map((m) => [m[1], Number(m[2])]);
    expect(rows).toEqual(Object.entries(ErrorCodes).map(([code, e]) => [code, e.status]));
  });

  it('gives a coded error its status, message and JSON body', () => {
    const e = new HextwinError('RATE_LIMITED', undefined, { details: { retryAfterMs: 500 } });
    expect(e.status).toBe(429);
    expect(e.name).toBe('HextwinError');
    expect(e.toJSON()).toEqual({ error: { code: 'RATE_LIMITED', message: ErrorCodes.RATE_LIMITED.message, details: { retryAfterMs: 500 } } });
  });

  it('masks unexpected errors as INTERNAL, keeping the cause', () => {
    const boom = new TypeError('x is undefined');
    const coded = toCoded(boom);
    expect(coded.code).toBe('INTERNAL');
    expect(coded.message).toBe('Unexpected error.');
    expect(coded.cause).toBe(boom);
  });
});
