/**
 * The demo feature (`pnpm demo`): the demo's devices are the sample simulation models
 * (`demo.ts`), run inside the server on the engine's clock in real time, together with any
 * simulation model of MODELS_DIR (a model of MODELS_DIR replaces a demo model of the same name).
 * Their telemetry enters the engine as simulated ingest (connector `simulation`), commands from
 * the twins come back to the simulated devices, and `Query.simulation` reports the run. It also
 * registers the demo scenarios, which change the simulated world and send the messages that make
 * the change visible at once. Does nothing unless the server runs in demo mode.
 *
 * Environment (demo only): HEXTWIN_DEMO_RATE (messages/s of all devices together, default 4000),
 * HEXTWIN_DEMO_SEED (default 1). HEXTWIN_DEMO_KEY is no longer needed (nothing connects from outside)
 * and is ignored.
 */
import { HextwinError } from '@hextwin/shared';
import type { AppContext, Feature } from '../app/feature.js';
import { demoModels } from './demo.js';
import { Random } from './random.js';
import { SCENARIOS } from './scenarios/index.js';
import { SIMULATION_CONNECTOR, Simulation, splitModels } from './simulation.js';
import { DEMO_SIZE, World } from './world.js';

const DEFAULT_RATE = 4_000;

export const simulatorFeature: Feature = {
  name: 'simulator',
  async start(ctx: AppContext) {
    if (!ctx.config.demo) return;
    if (ctx.config.simulation)
      throw new HextwinError(
        'CONFIG_INVALID',
        'HEXTWIN_DEMO and SIMULATION_SPEED exclude each other: `pnpm simulate --serve --speed N` runs the demo devices on the simulation clock',
      );
    const log = ctx.logger.child({ feature: 'simulator' });
    const rate = Number(process.env.HEXTWIN_DEMO_RATE || DEFAULT_RATE);
    if (!(rate > 0))
      throw new HextwinError('CONFIG_INVALID', `HEXTWIN_DEMO_RATE must be a number above 0, got ${JSON.stringify(process.env.HEXTWIN_DEMO_RATE)}`);
    const world = new World(process.env.HEXTWIN_DEMO_SEED || '1', DEMO_SIZE);
    const own = splitModels([...ctx.models]).simulation;
    const models = [...demoModels(world, rate).filter((m) => !own.some((o) => o.name === m.name)), ...own];
    const sim = new Simulation({ engine: ctx.engine, clock: ctx.clock, models, logger: log, speed: 1, baseDir: ctx.config.modelsDir ?? process.cwd() });
    let wallStart = 0;
    let triggered = 0;

    for (const s of SCENARIOS) {
      ctx.scenarios.register(s.name, s.description, async () => {
        if (!wallStart) throw new HextwinError('NOT_READY', 'the demo devices start once the server is ready');
        // each trigger draws from its own stream of the seed, as `pnpm simulate --scenario` does
        const rng = Random.derive(world.seed, `scenario/${triggered++}/${s.name}`);
        const effect = s.apply(world, ctx.clock.now(), rng);
        if (effect.messages.length > 0) await ctx.engine.ingest(effect.messages, { source: { connector: SIMULATION_CONNECTOR } });
        log.info({ scenario: s.name, messages: effect.messages.length }, effect.summary);
      });
    }
    ctx.simulation.current = {
      get status() {
        return sim.status;
      },
      get wallMs() {
        return wallStart ? performance.now() - wallStart : 0;
      },
    };

    let stopped = false;
    const running = (async () => {
      while (!ctx.engine.ready && !stopped) await new Promise((r) => setTimeout(r, 50));
      if (stopped) return;
      wallStart = performance.now();
      sim.start();
      log.info({ rate, devices: world.fleets.map((f) => `${f.size} ${f.model}`).join(', '), models: models.map((m) => m.name) }, 'demo devices simulated');
    })().catch((e: unknown) => log.error({ err: e }, 'the demo simulation failed'));
    return {
      async stop() {
        stopped = true;
        await running;
        sim.stop();
        await sim.idle();
      },
    };
  },
};
