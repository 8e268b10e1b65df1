/** `pnpm start` / `pnpm demo`: configuration from the environment, then the server. */
import pino from 'pino';
import { isHextwinError } from '@hextwin/shared';
import { loadConfig } from './config.js';
import { startApp } from './app/app.js';
import { loadModels } from './models-loader.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    process.stderr.write(`hextwin: ${(e as Error).message}\n`);
    process.exit(2);
  }
  const logger = pino({ level: config.logLevel, base: { node: config.nodeId } });
  // a promise some fire-and-forget path forgot to handle must not end a server that holds live twins
  process.on('unhandledRejection', (err) => logger.error({ err }, 'unhandled promise rejection'));
  const models = await loadModels({ samples: config.sampleModels, modelsDir: config.modelsDir });
  const app = await startApp(config, { models, logger });
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: draining and checkpointing');
    const force = setTimeout(() => process.exit(1), 15_000);
    force.unref();
    app.stop().then(
      () => process.exit(0),
      (e) => {
        logger.error({ err: e }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((e) => {
  if (isHextwinError(e)) process.stderr.write(`hextwin: ${e.code}: ${e.message}\n`);
  else process.stderr.write(`hextwin: ${(e as Error)?.stack ?? String(e)}\n`);
  process.exit(1);
});
