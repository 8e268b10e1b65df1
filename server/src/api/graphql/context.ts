/** What every resolver receives: who is asking, and the parts of the server it may use. */
import { HextwinError } from '@hextwin/shared';
import type { Principal } from '../../auth/auth.js';
import type { AppContext } from '../../app/feature.js';
import type { TwinIndex } from '../../index/index.js';
import type { StatusSampler } from './status.js';
import type { SubscriptionOwner, Subscriptions } from './subscription-registry.js';

export interface GqlContext {
  principal: Principal;
  app: AppContext;
  index: TwinIndex;
  status: StatusSampler;
  subscriptions: Subscriptions;
  /** the graphql-ws connection the operation came on (undefined over HTTP) */
  owner?: SubscriptionOwner;
  /** the group cap of aggregate answers (GRAPHQL_MAX_GROUPS) */
  maxGroups: number;
}

/** Mutations need an operator or admin key. */
export function requireMutate(ctx: GqlContext): void {
  if (!ctx.principal.canMutate) throw new HextwinError('FORBIDDEN', `the key "${ctx.principal.name}" (${ctx.principal.role}) may read but not run mutations`);
}
