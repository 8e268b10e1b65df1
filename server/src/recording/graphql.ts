/** GraphQL for recordings: list (readers), start, stop and replay (operators and admins). */
import { readFile } from 'node:fs/promises';
import { HextwinError } from '@hextwin/shared';
import type { Resolvers } from '@hextwin/shared/generated/graphql';
import { requireMutate, type GqlContext } from '../api/graphql/context.js';
import { REPLAY_CONNECTOR, type Recorder, type RecordingInfo } from './recorder.js';
import { checkSpeed, parseRecording, realTimeWaiter, replay } from './replay.js';
import { ReplayProgress } from './replay-status.js';

function recorderOf(ctx: GqlContext): Recorder {
  if (!ctx.app.recorder) throw new HextwinError('NOT_FOUND', 'this server keeps no recordings');
  return ctx.app.recorder;
}

const out = (r: RecordingInfo) => ({
  ...r,
  from: r.from === null ? null : new Date(r.from).toISOString(),
  to: r.to === null ? null : new Date(r.to).toISOString(),
});

export const recordingResolvers: Resolvers<GqlContext> = {
  Query: {
    recordings: async (_p, _a, ctx) => (await recorderOf(ctx).list()).map(out),
  },
  Mutation: {
    startRecording: async (_p, { model, maxBytes, maxMs }, ctx) => {
      requireMutate(ctx);
      return out(await recorderOf(ctx).start(model, { ...(maxBytes != null ? { maxBytes } : {}), ...(maxMs != null ? { maxMs } : {}) }));
    },
    stopRecording: async (_p, { model }, ctx) => {
      requireMutate(ctx);
      const r = await recorderOf(ctx).stop(model);
      return r ? out(r) : null;
    },
    replayRecording: async (_p, { name, speed }, ctx) => {
      requireMutate(ctx);
      const s = checkSpeed(speed ?? 1);
      const messages = parseRecording(await readFile(await recorderOf(ctx).file(name), 'utf8'));
      const { engine, logger } = ctx.app;
      const progress = new ReplayProgress(name, messages, s);
      // Query.simulation reports it while it runs, and the last one after
      ctx.app.simulation.replay = progress;
      // runs on after the answer: the replay is a simulation of the recorded hours
      void replay(messages, {
        speed: s,
        waitUntil: realTimeWaiter(),
        send: (batch) => engine.ingest(batch, { source: { connector: REPLAY_CONNECTOR } }),
        onBatch: (n, refused, at) => progress.batch(n, refused, at),
      })
        .then(
          (r) => logger.info({ name, ...r }, 'replay finished'),
          (err: unknown) => logger.error({ err, name }, 'replay failed'),
        )
        .finally(() => progress.finish());
      return { name, messages: messages.length, speed: s };
    },
  },
};
