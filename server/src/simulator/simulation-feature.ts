/**
 * The simulation feature (SIMULATION_SPEED set): once the server is ready, runs the loaded
 * simulation models on the engine's SimulationClock, so the real-time twins' timers follow the
 * simulated time, and publishes the run's status for `Query.simulation`. When the simulation ends
 * the clock stops where it is (the twins' timers wait with it).
 */
import { HextwinError } from '@hextwin/shared';
import type { AppContext, Feature } from '../app/feature.js';
import { SimulationClock } from '../engine/clock.js';
import { Simulation, splitModels } from './simulation.js';

export const simulationFeature: Feature = {
  name: 'simulation',
  async start(ctx: AppContext) {
    const cfg = ctx.config.simulation;
    if (!cfg) return;
    if (ctx.config.natsUrl) throw new HextwinError('CONFIG_INVALID', 'SIMULATION_SPEED runs on the embedded engine only; unset NATS_URL');
    const clock = ctx.clock;
    if (!(clock instanceof SimulationClock)) throw new HextwinError('CONFIG_INVALID', 'SIMULATION_SPEED needs the engine on the simulation clock');
    let models = splitModels([...ctx.models]).simulation;
    if (cfg.models) {
      const missing = cfg.models.filter((n) => !models.some((m) => m.name === n));
      if (missing.length > 0) throw new HextwinError('CONFIG_INVALID', `SIMULATION_MODELS names ${missing.join(', ')}, which no loaded simulation model is`);
      models = models.filter((m) => cfg.models!.includes(m.name));
    }
    const log = ctx.logger.child({ feature: 'simulation' });
    if (models.length === 0) log.warn('SIMULATION_SPEED is set but no simulation model is loaded: the clock runs with nothing to simulate');
    const sim = new Simulation({
      engine: ctx.engine,
      clock,
      models,
      logger: log,
      speed: cfg.speed,
      durationMs: cfg.durationMs,
      baseDir: ctx.config.modelsDir ?? process.cwd(),
      onEnd: () => {
        wallEnd = performance.now();
        clock.pause();
      },
    });
    if (clock.speed === Infinity)
      clock.settle = async () => {
        await sim.idle();
        await (ctx.engine as { idle?: () => Promise<void> }).idle?.();
      };
    let wallStart = 0;
    let wallEnd = 0;
    ctx.simulation.current = {
      get status() {
        return sim.status;
      },
      get wallMs() {
        return wallStart ? (wallEnd || performance.now()) - wallStart : 0;
      },
    };
    let stopped = false;
    const running = (async () => {
      while (!ctx.engine.ready && !stopped) await new Promise((r) => setTimeout(r, 50));
      if (stopped) return;
      wallStart = performance.now();
      sim.start();
      await clock.resume();
    })().catch((e: unknown) => log.error({ err: e }, 'the simulation failed'));
    return {
      async stop() {
        stopped = true;
        sim.stop();
        clock.pause();
        await running;
        await sim.idle();
      },
    };
  },
};
