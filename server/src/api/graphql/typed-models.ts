/**
 * Typed GraphQL for models that declare a `stateSchema`: an object type with the state's fields,
 * a typed filter input, and query fields, generated when the models load. For `grid-node`:
 *
 *   gridNode(id: ID!): GridNode
 *   gridNodes(where: GridNodeWhere, orderBy: [TwinOrder!], first: Int = 100, after: String): GridNodeConnection!
 *   input GridNodeWhere { and, or, not, within: GeoFilter, id: IDFilter, alertLevel: FloatFilter, ... }
 *
 * so `gridNodes(where: {alertLevel: {gte: 10}})` works alongside the generic `twins` API. Typed
 * filters translate to the generic filter language, with the same semantics.
 */
import type { Logger } from 'pino';
import type { ModelInfo } from '../../engine/types.js';
import type { FilterOp, TwinFilter } from '../../index/index.js';
import type { GqlContext } from './context.js';
import { Twin as TwinFields } from './resolvers/types.js';

type Scalar = 'Float' | 'Int' | 'String' | 'Boolean' | 'JSON';

const NAME = /^[_A-Za-z][_0-9A-Za-z]*$/;
/** Twin fields every typed type carries; state properties of these names stay reachable through `state`. */
const RESERVED = new Set(['id', 'model', 'state', 'lat', 'lng', 'alerts', 'updatedAt', 'createdAt', 'lastError', 'pendingCommands', 'cell', '__typename']);
const INT32 = 2 ** 31 - 1;

/** The filter inputs shared by typed models, one per scalar. */
const FILTER_INPUTS = `
"Typed filter on a number field: missing or null fails every comparison except ne (true) and exists."
input FloatFilter { eq: Float ne: Float gt: Float gte: Float lt: Float lte: Float in: [Float!] exists: Boolean }
"Typed filter on a string field."
input StringFilter { eq: String ne: String gt: String gte: String lt: String lte: String in: [String!] contains: String exists: Boolean }
"Typed filter on a boolean field."
input BooleanFilter { eq: Boolean ne: Boolean exists: Boolean }
"Typed filter on a field of any JSON type (objects, arrays)."
input JSONFilter { eq: JSON ne: JSON gt: JSON gte: JSON lt: JSON lte: JSON in: [JSON!] contains: JSON exists: Boolean }
"Typed filter on a twin id."
input IDFilter { eq: ID ne: ID gt: ID gte: ID lt: ID lte: ID in: [ID!] contains: String }
`;

const OPS: Record<string, FilterOp> = { eq: 'EQ', ne: 'NE', gt: 'GT', gte: 'GTE', lt: 'LT', lte: 'LTE', in: 'IN', contains: 'CONTAINS', exists: 'EXISTS' };

function words(name: string): string[] {
  return name.split(/[^A-Za-z0-9]+/).filter(Boolean);
}

const cap = (w: string) => w.charAt(0).toUpperCase() + w.slice(1);

export function pascal(name: string): string {
  return words(name).map(cap).join('');
}

export function camel(name: string): string {
  const p = pascal(name);
  return p.charAt(0).toLowerCase() + p.slice(1);
}

export function plural(word: string): string {
  if (/(s|x|z|ch|sh)$/.test(word)) return word + 'es';
  if (/[^aeiou]y$/.test(word)) return word.slice(0, -1) + 'ies';
  return word + 's';
}

function scalarOf(schema: unknown): Scalar {
  const s = (schema ?? {}) as { type?: unknown; minimum?: unknown; maximum?: unknown };
  const types = (Array.isArray(s.type) ? s.type : [s.type]).filter((t) => t !== 'null');
  if (types.length !== 1) return 'JSON';
  switch (types[0]) {
    case 'integer': {
      // GraphQL Int is 32-bit: epoch-ms counters and the like need Float
      const bounded = typeof s.minimum === 'number' && typeof s.maximum === 'number' && s.minimum >= -INT32 - 1 && s.maximum <= INT32;
      return bounded ? 'Int' : 'Float';
    }
    case 'number':
      return 'Float';
    case 'string':
      return 'String';
    case 'boolean':
      return 'Boolean';
    default:
      return 'JSON';
  }
}

const filterOf = (s: Scalar) => (s === 'Int' ? 'FloatFilter' : `${s}Filter`);

/** A value of the state as the declared scalar, or null when the state holds something else. */
function asScalar(s: Scalar, v: unknown): unknown {
  if (v === undefined || v === null) return null;
  switch (s) {
    case 'Float':
      return typeof v === 'number' ? v : null;
    case 'Int':
      return typeof v === 'number' && Number.isInteger(v) && Math.abs(v) <= INT32 ? v : null;
    case 'String':
      return typeof v === 'string' ? v : null;
    case 'Boolean':
      return typeof v === 'boolean' ? v : null;
    default:
      return v;
  }
}

/** Translate a typed filter into the generic filter language. */
export function typedToTwinFilter(w: Record<string, unknown> | null | undefined): TwinFilter | null {
  if (!w) return null;
  const and: TwinFilter[] = [];
  for (const [k, v] of Object.entries(w)) {
    if (v === null || v === undefined) continue;
    if (k === 'and') and.push({ and: (v as Record<string, unknown>[]).map((x) => typedToTwinFilter(x) ?? {}) });
    else if (k === 'or') and.push({ or: (v as Record<string, unknown>[]).map((x) => typedToTwinFilter(x) ?? {}) });
    else if (k === 'not') and.push({ not: typedToTwinFilter(v as Record<string, unknown>) ?? {} });
    else if (k === 'within') and.push({ within: v as TwinFilter['within'] });
    else {
      const field = k === 'id' ? '$id' : k;
      for (const [op, value] of Object.entries(v as Record<string, unknown>)) {
        if (value === null || value === undefined) continue;
        and.push({ field, op: OPS[op]!, value });
      }
    }
  }
  return { and };
}

export interface TypedModels {
  sdl: string;
  resolvers: Record<string, Record<string, unknown>>;
  /** model name → the type and query field names generated for it */
  generated: Map<string, { type: string; one: string; many: string }>;
}

/** SDL and resolvers for the models with a state schema. Models whose names collide are skipped (logged). */
export function typedModels(models: ModelInfo[], taken: { types: Set<string>; queryFields: Set<string> }, log: Logger): TypedModels {
  const parts: string[] = [];
  const queryFields: string[] = [];
  const resolvers: Record<string, Record<string, unknown>> = { Query: {} };
  const generated = new Map<string, { type: string; one: string; many: string }>();
  const types = new Set(taken.types);
  const fieldsTaken = new Set(taken.queryFields);
  for (const m of models) {
    const props = (m.stateSchema as { properties?: Record<string, unknown> } | undefined)?.properties;
    if (!props || typeof props !== 'object') continue;
    const T = pascal(m.name);
    const one = camel(m.name);
    const many = plural(one);
    const names = [T, `${T}Where`, `${T}Connection`, `${T}Edge`];
    if (!NAME.test(T) || names.some((n) => types.has(n)) || fieldsTaken.has(one) || fieldsTaken.has(many) || one === many) {
      log.warn({ model: m.name, type: T }, 'typed GraphQL API skipped for this model: its names collide; use the generic twins API');
      continue;
    }
    names.forEach((n) => types.add(n));
    fieldsTaken.add(one).add(many);
    const fields: { name: string; scalar: Scalar }[] = [];
    for (const [name, sub] of Object.entries(props)) {
      if (!NAME.test(name) || RESERVED.has(name) || name.startsWith('__')) continue;
      fields.push({ name, scalar: scalarOf(sub) });
    }
    const doc = m.description ? `"""${m.description.replace(/"""/g, "'''")}"""\n` : '';
    parts.push(`${doc}type ${T} {
  id: ID!
  model: String!
  state: JSON!
  lat: Float
  lng: Float
  alerts(limit: Int = 20): [Alert!]!
  updatedAt: DateTime
  createdAt: DateTime
  lastError: TwinError
  pendingCommands: [JSON!]!
  cell(resolution: Int!): String
${fields.map((f) => `  ${f.name}: ${f.scalar}`).join('\n')}
}
type ${T}Edge { cursor: String! node: ${T}! }
type ${T}Connection { totalCount: Int! edges: [${T}Edge!]! pageInfo: PageInfo! }
"Typed filter for ${m.name} twins: fields side by side are ANDed."
input ${T}Where {
  and: [${T}Where!]
  or: [${T}Where!]
  not: ${T}Where
  within: GeoFilter
  id: IDFilter
${fields.map((f) => `  ${f.name}: ${filterOf(f.scalar)}`).join('\n')}
}`);
    queryFields.push(
      `  "one ${m.name} twin"\n  ${one}(id: ID!): ${T}`,
      `  "${m.name} twins, typed"\n  ${many}(where: ${T}Where, orderBy: [TwinOrder!], first: Int = 100, after: String): ${T}Connection!`,
    );
    const typeResolvers: Record<string, unknown> = { ...TwinFields };
    // Twin.level is on the generic Twin only: typed types keep a state field named `level` as it was
    delete typeResolvers.level;
    delete typeResolvers.history;
    for (const f of fields) typeResolvers[f.name] = (t: { state: unknown }) => asScalar(f.scalar, (t.state as Record<string, unknown> | null)?.[f.name]);
    resolvers[T] = typeResolvers;
    const model = m.name;
    resolvers.Query![one] = (_p: unknown, { id }: { id: string }, ctx: GqlContext) => ctx.app.engine.twin(model, id) ?? null;
    resolvers.Query![many] = async (
      _p: unknown,
      args: { where?: Record<string, unknown> | null; orderBy?: never; first?: number | null; after?: string | null },
      ctx: GqlContext,
    ) => {
      const page = await ctx.index.find(model, { where: typedToTwinFilter(args.where), orderBy: args.orderBy, first: args.first, after: args.after });
      return { totalCount: page.totalCount, edges: page.edges, pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.endCursor } };
    };
    generated.set(model, { type: T, one, many });
  }
  if (generated.size === 0) return { sdl: '', resolvers: {}, generated };
  const sdl = `${FILTER_INPUTS}\n${parts.join('\n\n')}\n\nextend type Query {\n${queryFields.join('\n')}\n}\n`;
  return { sdl, resolvers, generated };
}
