/**
 * Small JSON Schema building blocks shared by the sample models' `messageSchema` and `stateSchema`.
 * Plain JSON Schema (draft 2020-12 subset), no formats, so any validator reads them the same way.
 */
import type { JsonSchema } from '@hextwin/shared';

/** An event time: epoch milliseconds, or an ISO 8601 string (date, optionally with time). */
export const timestampSchema: JsonSchema = {
  anyOf: [{ type: 'number' }, { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}' }],
};

export const latSchema: JsonSchema = { type: 'number', minimum: -90, maximum: 90 };
export const lngSchema: JsonSchema = { type: 'number', minimum: -180, maximum: 180 };

/** `type` or null, for state fields that are unknown until a message sets them. */
export function nullable(type: 'number' | 'string' | 'boolean' | 'object' | 'array', extra: JsonSchema = {}): JsonSchema {
  return { type: [type, 'null'], ...extra };
}
