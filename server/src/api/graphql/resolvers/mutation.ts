/** Mutation resolvers (operators and admins only): messages to twins, commands to devices, the alarm lifecycle, removals. */
import { HextwinError, type JsonValue } from '@hextwin/shared';
import type { MutationResolvers } from '@hextwin/shared/generated/graphql';
import { requireMutate, type GqlContext } from '../context.js';
import type { EngineApi } from '../../../engine/types.js';

const MAX_ASSIGNEE = 256;
const MAX_COMMENT = 4_096;

/** An operator side of the alarm lifecycle, where the engine offers it (the embedded engine does). */
function alarmOp<K extends 'clearAlertById' | 'assignAlert' | 'commentAlert'>(ctx: GqlContext, op: K): NonNullable<EngineApi[K]> {
  const fn = ctx.app.engine[op];
  if (!fn) throw new HextwinError('BAD_REQUEST', `this server does not offer ${op} (a cluster node acknowledges alarms only)`);
  return fn.bind(ctx.app.engine) as NonNullable<EngineApi[K]>;
}

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

  clearAlert: (_p, { id }, ctx) => {
    requireMutate(ctx);
    return alarmOp(ctx, 'clearAlertById')(id) ?? null;
  },

  assignAlert: (_p, { id, assignee }, ctx) => {
    requireMutate(ctx);
    if (assignee !== null && assignee !== undefined && (assignee.length === 0 || assignee.length > MAX_ASSIGNEE))
      throw new HextwinError('BAD_REQUEST', `assignee must be 1 to ${MAX_ASSIGNEE} characters, or null to unassign`);
    return alarmOp(ctx, 'assignAlert')(id, assignee ?? null) ?? null;
  },

  commentAlert: (_p, { id, text }, ctx) => {
    requireMutate(ctx);
    if (text.length === 0 || text.length > MAX_COMMENT) throw new HextwinError('BAD_REQUEST', `a comment must be 1 to ${MAX_COMMENT} characters`);
    return alarmOp(ctx, 'commentAlert')(id, ctx.principal.name, text) ?? null;
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
