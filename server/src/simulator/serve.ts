/**
 * `pnpm simulate --serve`: a dedicated server in this process whose engine runs on the simulation
 * clock (SIMULATION_SPEED), running the sample simulation models (server/src/simulator/samples)
 * and those of MODELS_DIR, with a progress line on stderr. Ends with the simulation when it has a
 * duration, else on Ctrl-C.
 */
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { startApp } from '../app/app.js';
import { loadConfig } from '../config.js';
import { loadModels, loadModelsDir } from '../models-loader.js';
import type { CliOptions } from './cli-args.js';

const SAMPLES_DIR = fileURLToPath(new URL('./samples/', import.meta.url));

export async function serveSimulation(opts: CliOptions, logger: Logger): Promise<number> {
  const serve = opts.serve!;
  const config = loadConfig({
    ...process.env,
    SIMULATION_SPEED: opts.speed === Infinity ? 'max' : String(opts.speed),
    SIMULATION_START: String(opts.start),
    ...(serve.simDurationMs !== undefined ? { SIMULATION_DURATION_MS: String(Math.round(serve.simDurationMs)) } : {}),
    ...(serve.simModels ? { SIMULATION_MODELS: serve.simModels.join(',') } : {}),
  });
  const models = [...(await loadModels({ samples: config.sampleModels, modelsDir: config.modelsDir })), ...(await loadModelsDir(SAMPLES_DIR))];
  const app = await startApp(config, { models, logger });
  const tty = process.stderr.isTTY === true;
  const line = () => {
    const s = app.context.simulation.current?.status;
    if (!s) return 'no simulation';
    const pct = s.progress === null ? '' : ` ${(s.progress * 100).toFixed(1)}%`;
    return `sim ${new Date(s.simTime).toISOString()}${pct}  ${s.instances} instances  ${s.steps} steps  ${s.emitted} messages  ${s.errors} errors${s.running ? '' : '  (ended)'}`;
  };
  let ticks = 0;
  let finish: () => void = () => undefined;
  const done = new Promise<void>((r) => (finish = r));
  const timer = setInterval(() => {
    ticks++;
    if (tty) process.stderr.write(`\r\x1b[K${line()}`);
    else if (ticks % 5 === 0) process.stderr.write(`${line()}\n`);
    if (serve.simDurationMs !== undefined && app.context.simulation.current && !app.context.simulation.current.status.running) finish();
  }, 1_000);
  process.once('SIGINT', finish);
  process.once('SIGTERM', finish);
  logger.info({ url: app.url, speed: opts.speed === Infinity ? 'max' : opts.speed }, 'dedicated simulation server');
  await done;
  clearInterval(timer);
  process.stderr.write(`${tty ? '\r\x1b[K' : ''}${line()}\n`);
  await app.stop();
  return 0;
}
