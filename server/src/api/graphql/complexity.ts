/**
 * Depth and cost limits, checked once the operation and its variables are known (Apollo's
 * didResolveOperation for HTTP, onSubscribe for graphql-ws). Cost counts one per field, multiplied
 * under a field by its page size (`first` or `limit`, from the literal, the variables or the
 * argument's default), so a page of 1,000 twins each asking for 20 alerts costs what it does.
 */
import {
  getNamedType,
  isInterfaceType,
  isObjectType,
  Kind,
  valueFromAST,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLError,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { codedGraphQLError } from './errors.js';

export interface ComplexityLimits {
  maxDepth: number;
  maxCost: number;
}

export const DEFAULT_LIMITS: ComplexityLimits = { maxDepth: 15, maxCost: 200_000 };

const SIZE_ARGS = ['first', 'limit'];

interface Walk {
  schema: GraphQLSchema;
  fragments: Map<string, FragmentDefinitionNode>;
  variables: Record<string, unknown>;
  cost: number;
  depth: number;
  limits: ComplexityLimits;
}

function pageSize(
  field: GraphQLField<unknown, unknown>,
  node: { arguments?: readonly { name: { value: string }; value: import('graphql').ValueNode }[] },
  w: Walk,
): number {
  for (const name of SIZE_ARGS) {
    const def = field.args.find((a) => a.name === name);
    if (!def) continue;
    const given = node.arguments?.find((a) => a.name.value === name);
    const v = given ? valueFromAST(given.value, def.type, w.variables) : def.defaultValue;
    if (typeof v === 'number' && v >= 0) return Math.max(1, v);
  }
  return 1;
}

function walk(set: SelectionSetNode, type: GraphQLNamedType | undefined, depth: number, mult: number, w: Walk, seen: Set<string>): void {
  if (depth > w.depth) w.depth = depth;
  // stop early: the answer is already "too complex"
  if (w.depth > w.limits.maxDepth || w.cost > w.limits.maxCost) return;
  const fields = type && (isObjectType(type) || isInterfaceType(type)) ? type.getFields() : undefined;
  for (const sel of set.selections) {
    if (sel.kind === Kind.FIELD) {
      w.cost += mult;
      if (!sel.selectionSet) continue;
      const def = fields?.[sel.name.value];
      const childType = def ? getNamedType(def.type) : undefined;
      walk(sel.selectionSet, childType, depth + 1, def ? mult * pageSize(def, sel, w) : mult, w, seen);
    } else if (sel.kind === Kind.INLINE_FRAGMENT) {
      const t = sel.typeCondition ? w.schema.getType(sel.typeCondition.name.value) : type;
      walk(sel.selectionSet, t, depth, mult, w, seen);
    } else {
      const name = sel.name.value;
      const frag = w.fragments.get(name);
      if (!frag || seen.has(name)) continue;
      seen.add(name);
      walk(frag.selectionSet, w.schema.getType(frag.typeCondition.name.value), depth, mult, w, seen);
      seen.delete(name);
    }
  }
}

/** The depth and cost of an operation. */
export function measure(
  schema: GraphQLSchema,
  doc: DocumentNode,
  op: OperationDefinitionNode,
  variables: Record<string, unknown> | undefined,
  limits = DEFAULT_LIMITS,
): { depth: number; cost: number } {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of doc.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const root = op.operation === 'query' ? schema.getQueryType() : op.operation === 'mutation' ? schema.getMutationType() : schema.getSubscriptionType();
  const w: Walk = { schema, fragments, variables: variables ?? {}, cost: 0, depth: 0, limits };
  walk(op.selectionSet, root ?? undefined, 1, 1, w, new Set());
  return { depth: w.depth, cost: w.cost };
}

/** QUERY_TOO_COMPLEX when the operation is deeper or costlier than allowed, else undefined. */
export function checkComplexity(
  schema: GraphQLSchema,
  doc: DocumentNode,
  op: OperationDefinitionNode,
  variables: Record<string, unknown> | undefined,
  limits = DEFAULT_LIMITS,
): GraphQLError | undefined {
  const { depth, cost } = measure(schema, doc, op, variables, limits);
  if (depth > limits.maxDepth) return codedGraphQLError('QUERY_TOO_COMPLEX', `The query nests deeper than ${limits.maxDepth} levels.`);
  if (cost > limits.maxCost)
    return codedGraphQLError(
      'QUERY_TOO_COMPLEX',
      `The query would cost more than ${limits.maxCost} (fields times page sizes); ask for smaller pages or fewer fields.`,
    );
  return undefined;
}
