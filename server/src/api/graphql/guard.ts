/**
 * What every GraphQL operation passes before it runs, over HTTP and graphql-ws alike: the rate
 * limit of its API key (GRAPHQL_RATE_LIMIT operations a second; without AUTH_FILE every caller is
 * the same anonymous key, so the client address stands in for it) and the depth, root-field and
 * cost limits (complexity.ts), and the depth and size of its arguments (arguments.ts). Refusals are counted in `hextwin_graphql_refused_total{limit}`.
 */
import { Counter } from 'prom-client';
import type { DocumentNode, GraphQLError, GraphQLSchema, OperationDefinitionNode } from 'graphql';
import { HextwinError } from '@hextwin/shared';
import type { AppContext } from '../../app/feature.js';
import type { Principal } from '../../auth/auth.js';
import { TokenBucket } from '../../connectors/rate-limiter.js';
import { checkComplexity, DEFAULT_LIMITS, type CostModel, type FieldWeight } from './complexity.js';
import { checkArguments } from './arguments.js';
import { codedGraphQLError } from './errors.js';

export type Limit = 'rate' | 'depth' | 'cost' | 'root_fields' | 'arguments' | 'subscriptions_per_connection' | 'subscriptions_per_key';

/** Buckets idle this long are full again: forget them so the map stays as small as the active callers. */
const BUCKET_IDLE_MS = 10_000;

export class GraphqlGuard {
  private readonly refused: Counter<'limit'>;
  private readonly buckets = new Map<string, { bucket: TokenBucket; at: number }>();
  private cost: CostModel;
  private lastSweep = 0;

  constructor(private readonly ctx: AppContext) {
    const existing = ctx.metrics.getSingleMetric('hextwin_graphql_refused_total') as Counter<'limit'> | undefined;
    this.refused =
      existing ??
      new Counter({
        name: 'hextwin_graphql_refused_total',
        help: 'GraphQL operations and subscriptions refused by a limit (rate, depth, cost, root_fields, arguments, subscriptions_per_*)',
        labelNames: ['limit'],
        registers: [ctx.metrics],
      });
    const limits = ctx.config.graphql;
    this.cost = { weights: new Map(), twinCount: (m) => (ctx.engine.hasModel(m) ? ctx.engine.twinCount(m) : 0), maxGroups: limits.maxGroups };
  }

  /** The cost weights of the schema's fields, once the schema is built. */
  setWeights(weights: ReadonlyMap<string, FieldWeight>): void {
    this.cost = { ...this.cost, weights };
  }

  count(limit: Limit): void {
    this.refused.inc({ limit });
  }

  /** The rate-limit key of a caller: its API key's name, or the client address for the anonymous caller. */
  rateKey(principal: Principal, address: string | undefined): string {
    return this.ctx.auth.enabled ? 'key:' + principal.name : 'addr:' + (address ?? '?');
  }

  /** RATE_LIMITED (with `retryAfterMs`) when the caller spent its operations of this second, else undefined. */
  takeRate(key: string): HextwinError | undefined {
    const rate = this.ctx.config.graphql.rateLimit;
    if (rate === 0) return undefined;
    const now = performance.now();
    if (now - this.lastSweep > BUCKET_IDLE_MS) {
      this.lastSweep = now;
      for (const [k, b] of this.buckets) if (now - b.at > BUCKET_IDLE_MS) this.buckets.delete(k);
    }
    let entry = this.buckets.get(key);
    if (!entry) this.buckets.set(key, (entry = { bucket: new TokenBucket(rate, now), at: now }));
    entry.at = now;
    if (entry.bucket.take(1, now)) return undefined;
    this.count('rate');
    const retryAfterMs = Math.max(1, entry.bucket.waitMs(1, now));
    return new HextwinError('RATE_LIMITED', `more than GRAPHQL_RATE_LIMIT (${rate}) GraphQL operations a second for this key`, { details: { retryAfterMs } });
  }

  /**
   * QUERY_TOO_COMPLEX when the operation is too deep, too wide or too costly; INVALID_MESSAGE or
   * PAYLOAD_TOO_LARGE when its arguments with their variables nest too deep or weigh too much.
   */
  checkOperation(
    schema: GraphQLSchema,
    doc: DocumentNode,
    op: OperationDefinitionNode,
    variables: Record<string, unknown> | undefined,
  ): GraphQLError | undefined {
    const bad = checkArguments(doc, variables, this.ctx.config.maxBodyBytes);
    if (bad) {
      this.count('arguments');
      return codedGraphQLError(bad.code, bad.message);
    }
    const limits = { ...DEFAULT_LIMITS, maxCost: this.ctx.config.graphql.maxCost, maxRootFields: this.ctx.config.graphql.maxRootFields };
    return checkComplexity(schema, doc, op, variables, limits, this.cost, (l) => this.count(l));
  }
}
