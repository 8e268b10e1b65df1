/**
 * `pnpm simulate`: feeds simulated devices to any hextwin server through its real connectors,
 * with a progress line on stderr (rate, acknowledged, errors) and pino logs.
 */
import pino from 'pino';
import { USAGE, UsageError, ingestUrl, parseCliArgs } from './cli-args.js';
import { PrintSender } from './print-sender.js';
import { ProgressLine } from './progress.js';
import { RestSender } from './rest-sender.js';
import { SCENARIOS } from './scenarios/index.js';
import type { Sender } from './sender.js';
import { serveSimulation } from './serve.js';
import { Simulator } from './simulator.js';
import { World } from './world.js';
import { WsSender } from './ws-sender.js';
import { replayMain } from '../recording/replay-cli.js';

async function main(): Promise<number> {
  if (process.argv.includes('--replay')) return replayMain(process.argv.slice(2));
  let opts;
  try {
    opts = parseCliArgs(process.argv.slice(2), process.env);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`${e.message}\n\n${USAGE}`);
    return 2;
  }
  if (opts.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (opts.listScenarios) {
    for (const s of SCENARIOS) process.stdout.write(`${s.name.padEnd(18)} ${s.description}\n`);
    return 0;
  }
  const logger = pino({ name: 'simulate', level: process.env.LOG_LEVEL || 'info' }, pino.destination(2));
  if (opts.serve) return serveSimulation(opts, logger);
  const world = new World(opts.seed, opts.size);
  let sender: Sender;
  if (opts.print) sender = new PrintSender(process.stdout);
  else if (opts.transport === 'ws') sender = new WsSender({ url: ingestUrl(opts.target), key: opts.key, window: opts.window, logger });
  else sender = new RestSender({ baseUrl: opts.target.href, key: opts.key, concurrency: opts.window, logger });

  const sim = new Simulator({
    world,
    sender,
    rate: opts.rate,
    speed: opts.speed,
    start: opts.start,
    batch: opts.batch,
    durationMs: opts.durationMs,
    maxMessages: opts.maxMessages,
    scenarios: opts.scenarios,
    logger,
  });
  const devices = world.fleets.map((f) => `${f.size.toLocaleString('en-US')} ${f.model}`).join(', ');
  logger.info(
    { target: opts.print ? 'stdout' : opts.target.href, transport: opts.print ? 'print' : opts.transport, rate: opts.rate, speed: opts.speed, seed: opts.seed },
    `simulating ${devices}`,
  );

  const progress = new ProgressLine();
  const tty = process.stderr.isTTY === true;
  let ticks = 0;
  const timer = setInterval(() => {
    ticks++;
    const line = progress.format(sim.stats);
    if (tty) process.stderr.write(`\r\x1b[K${line}`);
    else if (ticks % 5 === 0) process.stderr.write(`${line}\n`);
  }, 1_000);

  let interrupted = false;
  const onSignal = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    void sim.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let failed = false;
  try {
    await sim.run();
  } catch (e) {
    failed = true;
    logger.error({ err: e }, 'the simulation stopped');
  } finally {
    clearInterval(timer);
    await sender.close();
  }
  const s = sim.stats;
  process.stderr.write(`${tty ? '\r\x1b[K' : ''}${progress.format(s)}\n`);
  logger.info({ produced: s.produced, sent: s.sent, acked: s.acked, errors: s.errors, resent: s.resent, commands: s.commands }, 'done');
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
