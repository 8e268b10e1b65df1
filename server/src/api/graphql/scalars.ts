/** The custom scalars: JSON (any JSON value) and DateTime (ISO 8601 out; ISO 8601 or epoch ms in). */
import { GraphQLError, GraphQLScalarType, Kind, type ValueNode } from 'graphql';

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

export const JSONScalar = new GraphQLScalarType({
  name: 'JSON',
  description: 'Any JSON value.',
  serialize: (v) => v,
  parseValue: (v) => v,
  parseLiteral: (node, variables) => literalToJson(node, variables),
});

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
