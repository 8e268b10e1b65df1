/** Mutation resolvers (operators and admins only): messages to twins, commands to devices, alert acks, removals. */
import type { JsonValue } from '@hextwin/shared';
import type { MutationResolvers } from '@hextwin/shared/generated/graphql';
import { requireMutate, type GqlContext } from '../context.js';

export const Mutation: MutationResolvers<GqlContext> = {
  sendToTwin: async (_p, { model, id, message }, ctx) => {
    requireMutate(ctx);
    await ctx.app.engine.ingest([{ model, id, message: message as JsonValue }], { source: { connector: 'graphql' } });
    return true;
  },

  sendCommand: async (_p, { model, id, command }, ctx) => {
    requireMutate(ctx);
    await ctx.app.engine.sendCommand(model, id, command as JsonValue);
    return true;
  },

  acknowledgeAlert: (_p, { id }, ctx) => {
    requireMutate(ctx);
    return ctx.app.engine.acknowledgeAlert(id) ?? null;
  },

  removeTwin: async (_p, { model, id }, ctx) => {
    requireMutate(ctx);
    return ctx.app.engine.removeTwin(model, id);
  },

  triggerScenario: async (_p, { name }, ctx) => {
    requireMutate(ctx);
    await ctx.app.scenarios.trigger(name);
    return true;
  },
};
