/**
 * The custom scalars: JSON (any JSON value) and DateTime (ISO 8601 out; ISO 8601 or epoch ms in).
 * A JSON argument, literal or variable, is refused when it nests deeper than the connectors allow
 * (MAX_JSON_DEPTH: encoders further on recurse) or when it would encode larger than
 * MAX_BODY_BYTES (a literal can repeat one large variable many times).
 */
import { GraphQLError, GraphQLScalarType, Kind, type ValueNode } from 'graphql';
import { HextwinError } from '@hextwin/shared';
import { MAX_JSON_DEPTH } from '../../connectors/json-depth.js';

function literalToJson(node: ValueNode, variables: Record<string, unknown> | null | undefined): unknown {
  switch (node.kind) {
    case Kind.STRING:
    case Kind.BOOLEAN:
      return node.value;
    case Kind.INT:
    case Kind.FLOAT:
      return Number(node.value);
    case Kind.NULL:
      return null;
    case Kind.LIST:
      return node.values.map((v) => literalToJson(v, variables));
    case Kind.OBJECT: {
      const out: Record<string, unknown> = {};
      for (const f of node.fields) out[f.name.value] = literalToJson(f.value, variables);
      return out;
    }
    case Kind.VARIABLE:
      return variables?.[node.name.value] ?? null;
    case Kind.ENUM:
      return node.value;
  }
}

/**
 * Throws INVALID_MESSAGE when `v` nests objects or arrays deeper than MAX_JSON_DEPTH, and
 * PAYLOAD_TOO_LARGE when its JSON text would be longer than `maxBytes` (estimated without encoding:
 * string lengths plus a few bytes per value). Iterative, so no input can overflow the stack here.
 */
export function checkJsonArgument(v: unknown, maxBytes: number): void {
  const stack: [unknown, number][] = [[v, 0]];
  let bytes = 0;
  while (stack.length) {
    const [x, depth] = stack.pop()!;
    if (typeof x === 'string') bytes += x.length + 2;
    else if (x !== null && typeof x === 'object') {
      if (depth >= MAX_JSON_DEPTH) throw new HextwinError('INVALID_MESSAGE', `a JSON argument nests objects or arrays more than ${MAX_JSON_DEPTH} levels deep`);
      if (Array.isArray(x)) for (const e of x) stack.push([e, depth + 1]);
      else
        for (const k in x) {
          bytes += k.length + 3;
          stack.push([(x as Record<string, unknown>)[k], depth + 1]);
        }
      bytes += 2;
    } else bytes += 5;
    if (bytes > maxBytes) throw new HextwinError('PAYLOAD_TOO_LARGE', `a JSON argument would be larger than MAX_BODY_BYTES (${maxBytes} bytes)`);
  }
}

/** The JSON scalar, refusing values deeper than MAX_JSON_DEPTH or larger than `maxBytes`. */
export function jsonScalar(maxBytes: number): GraphQLScalarType {
  return new GraphQLScalarType({
    name: 'JSON',
    description: 'Any JSON value.',
    serialize: (v) => v,
    parseValue: (v) => {
      checkJsonArgument(v, maxBytes);
      return v;
    },
    parseLiteral: (node, variables) => {
      const v = literalToJson(node, variables);
      checkJsonArgument(v, maxBytes);
      return v;
    },
  });
}

const badDate = (v: unknown) =>
  new GraphQLError(`DateTime must be an ISO 8601 string (or epoch milliseconds); got ${JSON.stringify(v)}`, { extensions: { code: 'BAD_REQUEST' } });

/** Epoch ms of a DateTime input, or throws. */
export function parseDateTime(v: unknown): number {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string') {
    const t = Date.parse(v);
    if (!Number.isNaN(t)) return t;
  }
  throw badDate(v);
}

export const DateTimeScalar = new GraphQLScalarType({
  name: 'DateTime',
  description: 'An ISO 8601 date-time string.',
  serialize(v) {
    if (typeof v === 'number') return new Date(v).toISOString();
    if (v instanceof Date) return v.toISOString();
    if (typeof v === 'string') return v;
    throw new GraphQLError('DateTime cannot represent this value');
  },
  parseValue(v) {
    parseDateTime(v);
    return v;
  },
  parseLiteral(node) {
    if (node.kind === Kind.STRING || node.kind === Kind.INT) {
      const v = node.kind === Kind.INT ? Number(node.value) : node.value;
      parseDateTime(v);
      return v;
    }
    throw badDate(node.kind);
  },
});
