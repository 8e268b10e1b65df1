/**
 * `pnpm simulate --replay FILE [--speed N] [--target URL] [--key KEY] [--concurrency N]`: plays a
 * recording (NDJSON, as downloaded from GET /api/v1/recordings/{name}) into a server through its
 * REST connector, at the recorded pace divided by `--speed` (default 1; 0 as fast as it takes them).
 * Point it at a server running changed models to see what they would have done ("what-if").
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { RestSender } from '../simulator/rest-sender.js';
import { checkSpeed, parseRecording, realTimeWaiter, replay } from './replay.js';

export const REPLAY_USAGE = 'usage: pnpm simulate --replay FILE [--speed N] [--target URL] [--key KEY] [--concurrency N]\n';

export async function replayMain(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let v;
  try {
    v = parseArgs({
      args: argv,
      options: { replay: { type: 'string' }, speed: { type: 'string' }, target: { type: 'string' }, key: { type: 'string' }, concurrency: { type: 'string' } },
    }).values;
    if (!v.replay) throw new Error('--replay needs a file');
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n${REPLAY_USAGE}`);
    return 2;
  }
  const logger = pino({ name: 'replay', level: env.LOG_LEVEL || 'info' }, pino.destination(2));
  const speed = checkSpeed(Number(v.speed ?? '1'));
  const messages = parseRecording(readFileSync(v.replay, 'utf8'));
  const sender = new RestSender({
    baseUrl: v.target ?? 'http://127.0.0.1:4000',
    key: v.key ?? env.HEXTWIN_KEY,
    concurrency: Number(v.concurrency ?? 16),
    logger,
  });
  logger.info({ file: v.replay, messages: messages.length, speed }, 'replaying');
  await replay(messages, { speed, waitUntil: realTimeWaiter(), send: (batch) => sender.send(batch) });
  const done = await sender.flush(60_000);
  await sender.close();
  const s = sender.stats;
  logger.info({ acked: s.acked, errors: s.errors }, 'replay finished');
  return done && s.errors === 0 ? 0 : 1;
}
