/**
 * Depth, root-field and cost limits, checked once the operation and its variables are known
 * (Apollo's didResolveOperation for HTTP, onSubscribe for graphql-ws). Cost is one per field,
 * multiplied under a field by what it may return, plus the weight of the fields that scan a
 * model's twins:
 *
 * - `twins`, typed `<model>s`, `twinChanges`, `aggregate`: one per TWINS_PER_COST twins of the
 *   model (a filter or an ordering does not make a scan cheaper: every twin is looked at);
 *   `hexAggregate` twice that (a twin's cell may need computing).
 * - under a list field, its page size (`first` or `limit`, from the literal, the variables or the
 *   default); under `aggregate` with `groupBy` and under `hexAggregate`, the group cap
 *   (GRAPHQL_MAX_GROUPS) or the twin count when smaller.
 *
 * So 15,000 aliased `aggregate(groupBy: "$id")` cost what 15,000 full scans cost, and a page of
 * 1,000 twins each asking for 20 alerts costs what it does.
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
  /** fields (aliases included) at the root of one operation */
  maxRootFields: number;
}

export const DEFAULT_LIMITS: ComplexityLimits = { maxDepth: 15, maxCost: 200_000, maxRootFields: 50 };

/** Twins scanned for one unit of cost (a scan looks at a twin in ~50 ns; a field resolves in ~1 µs). */
export const TWINS_PER_COST = 20;

/** How a field weighs beyond its one: `scan` scans a model, `groups` too and returns groups, `hex` returns cells. */
export interface FieldWeight {
  kind: 'scan' | 'groups' | 'hex';
  /** the model scanned; undefined: the field's `model` argument */
  model?: string;
}

/** The weights of a schema's fields ("Query.twins" → …) and what they depend on. */
export interface CostModel {
  weights: ReadonlyMap<string, FieldWeight>;
  /** twins of a model now (0 for an unknown one) */
  twinCount(model: string): number;
  maxGroups: number;
}

/** The generic fields that scan twins; typed models add their own list fields. */
export function baseWeights(): Map<string, FieldWeight> {
  return new Map<string, FieldWeight>([
    ['Query.twins', { kind: 'scan' }],
    ['Query.aggregate', { kind: 'groups' }],
    ['Query.hexAggregate', { kind: 'hex' }],
    ['Subscription.twinChanges', { kind: 'scan' }],
    ['Subscription.aggregate', { kind: 'groups' }],
    ['Subscription.hexAggregate', { kind: 'hex' }],
  ]);
}

const NO_COST: CostModel = { weights: new Map(), twinCount: () => 0, maxGroups: 1 };

const SIZE_ARGS = ['first', 'limit'];

interface Walk {
  schema: GraphQLSchema;
  fragments: Map<string, FragmentDefinitionNode>;
  variables: Record<string, unknown>;
  cost: number;
  depth: number;
  rootFields: number;
  limits: ComplexityLimits;
  model: CostModel;
}

type ArgNode = { arguments?: readonly { name: { value: string }; value: import('graphql').ValueNode }[] };

function argValue(field: GraphQLField<unknown, unknown>, node: ArgNode, name: string, w: Walk): unknown {
  const def = field.args.find((a) => a.name === name);
  if (!def) return undefined;
  const given = node.arguments?.find((a) => a.name.value === name);
  return given ? valueFromAST(given.value, def.type, w.variables) : def.defaultValue;
}

/** The extra cost of a weighed field and the multiplier of its selections. */
function weigh(weight: FieldWeight, field: GraphQLField<unknown, unknown>, node: ArgNode, w: Walk): { cost: number; mult: number } {
  const model = weight.model ?? argValue(field, node, 'model', w);
  const n = typeof model === 'string' ? w.model.twinCount(model) : 0;
  const scan = Math.ceil(n / TWINS_PER_COST);
  const groups = Math.max(1, Math.min(w.model.maxGroups, n));
  if (weight.kind === 'hex') return { cost: 2 * scan, mult: groups };
  if (weight.kind === 'groups') {
    const groupBy = argValue(field, node, 'groupBy', w);
    return { cost: scan, mult: groupBy === null || groupBy === undefined ? 1 : groups };
  }
  return { cost: scan, mult: pageSize(field, node, w) };
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
  if (w.depth > w.limits.maxDepth || w.cost > w.limits.maxCost || w.rootFields > w.limits.maxRootFields) return;
  const fields = type && (isObjectType(type) || isInterfaceType(type)) ? type.getFields() : undefined;
  for (const sel of set.selections) {
    if (sel.kind === Kind.FIELD) {
      if (depth === 1 && ++w.rootFields > w.limits.maxRootFields) return;
      w.cost += mult;
      const def = fields?.[sel.name.value];
      const weight = def && type ? w.model.weights.get(`${type.name}.${sel.name.value}`) : undefined;
      let childMult = def ? pageSize(def, sel, w) : 1;
      if (weight && def) {
        const wt = weigh(weight, def, sel, w);
        w.cost += mult * wt.cost;
        childMult = wt.mult;
      }
      if (!sel.selectionSet) continue;
      const childType = def ? getNamedType(def.type) : undefined;
      walk(sel.selectionSet, childType, depth + 1, mult * childMult, w, seen);
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
  model = NO_COST,
): { depth: number; cost: number; rootFields: number } {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of doc.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const root = op.operation === 'query' ? schema.getQueryType() : op.operation === 'mutation' ? schema.getMutationType() : schema.getSubscriptionType();
  const w: Walk = { schema, fragments, variables: variables ?? {}, cost: 0, depth: 0, rootFields: 0, limits, model };
  walk(op.selectionSet, root ?? undefined, 1, 1, w, new Set());
  return { depth: w.depth, cost: w.cost, rootFields: w.rootFields };
}

/** Which limit refused an operation (the label of hextwin_graphql_refused_total). */
export type RefusedLimit = 'depth' | 'cost' | 'root_fields';

/** QUERY_TOO_COMPLEX when the operation is deeper, wider or costlier than allowed, else undefined. */
export function checkComplexity(
  schema: GraphQLSchema,
  doc: DocumentNode,
  op: OperationDefinitionNode,
  variables: Record<string, unknown> | undefined,
  limits = DEFAULT_LIMITS,
  model = NO_COST,
  onRefused?: (limit: RefusedLimit) => void,
): GraphQLError | undefined {
  const { depth, cost, rootFields } = measure(schema, doc, op, variables, limits, model);
  const refuse = (limit: RefusedLimit, message: string) => {
    onRefused?.(limit);
    return codedGraphQLError('QUERY_TOO_COMPLEX', message);
  };
  if (rootFields > limits.maxRootFields)
    return refuse('root_fields', `The operation has more than ${limits.maxRootFields} root fields (aliases included); split it.`);
  if (depth > limits.maxDepth) return refuse('depth', `The query nests deeper than ${limits.maxDepth} levels.`);
  if (cost > limits.maxCost)
    return refuse(
      'cost',
      `The query would cost more than ${limits.maxCost} (fields times page sizes, plus 1 per ${TWINS_PER_COST} twins each twins/aggregate field may scan); ask for smaller pages, fewer fields or fewer scans.`,
    );
  return undefined;
}
