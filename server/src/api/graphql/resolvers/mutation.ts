/** Mutation resolvers (operators and admins only): messages to twins, commands to devices, alert acks, removals. */
import { HextwinError, type JsonValue } from '@hextwin/shared';
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
    if (!ctx.app.engine.hasModel(model)) throw new HextwinError('UNKNOWN_MODEL', `no model named ${JSON.stringify(model)}`);
    // a command for a twin that does not exist would wait for a device nobody knows
    if (!ctx.app.engine.twin(model, id)) throw new HextwinError('TWIN_NOT_FOUND', `no twin ${model}/${id}`);
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

  releaseQuarantine: async (_p, { model, id }, ctx) => {
    requireMutate(ctx);
    if (!ctx.app.engine.hasModel(model)) throw new HextwinError('UNKNOWN_MODEL', `no model named ${JSON.stringify(model)}`);
    return (await ctx.app.engine.releaseQuarantine?.(model, id)) ?? false;
  },

  triggerScenario: async (_p, { name }, ctx) => {
    requireMutate(ctx);
    await ctx.app.scenarios.trigger(name);
    return true;
  },
};
