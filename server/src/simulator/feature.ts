/**
 * The demo feature (`pnpm demo`): once the server is ready, runs the simulator against the server's
 * own address through the real WebSocket connector, and registers the demo scenarios so operators
 * can trigger them. Does nothing unless the server runs in demo mode.
 *
 * Environment (demo only): HEXTWIN_DEMO_RATE (messages/s, default 4000), HEXTWIN_DEMO_SEED
 * (default 1), HEXTWIN_DEMO_KEY (an API key with write access, needed when AUTH_FILE is set; without
 * AUTH_FILE the simulator uses the server's own admin token).
 */
import { HextwinError } from '@hextwin/shared';
import http from 'node:http';
import type { AppContext, Feature } from '../app/feature.js';
import { SCENARIOS } from './scenarios/index.js';
import { Simulator } from './simulator.js';
import { DEMO_SIZE, World } from './world.js';
import { WsSender } from './ws-sender.js';

const DEFAULT_RATE = 4_000;

export const simulatorFeature: Feature = {
  name: 'simulator',
  async start(ctx: AppContext) {
    if (!ctx.config.demo) return;
    const log = ctx.logger.child({ feature: 'simulator' });
    const rate = Number(process.env.HEXTWIN_DEMO_RATE || DEFAULT_RATE);
    if (!(rate > 0))
      throw new HextwinError('CONFIG_INVALID', `HEXTWIN_DEMO_RATE must be a number above 0, got ${JSON.stringify(process.env.HEXTWIN_DEMO_RATE)}`);
    const key = process.env.HEXTWIN_DEMO_KEY || ctx.auth.adminToken;
    if (ctx.auth.enabled && !key) {
      log.warn('AUTH_FILE is set but HEXTWIN_DEMO_KEY is not: the demo simulator does not start');
      return;
    }
    const world = new World(process.env.HEXTWIN_DEMO_SEED || '1', DEMO_SIZE);
    let sim: Simulator | undefined;
    let sender: WsSender | undefined;
    let stopped = false;

    for (const s of SCENARIOS) {
      ctx.scenarios.register(s.name, s.description, async () => {
        if (!sim) throw new HextwinError('NOT_READY', 'the demo simulator starts once the server is ready');
        sim.trigger(s.name);
      });
    }

    const running = (async () => {
      const address = await whenReady(ctx, () => stopped);
      if (!address) return;
      sender = new WsSender({ url: `ws://${address}/ingest`, key, logger: log });
      sim = new Simulator({ world, sender, rate, logger: log });
      log.info({ rate, devices: world.fleets.map((f) => `${f.size} ${f.model}`).join(', ') }, 'demo simulator feeding the server');
      await sim.run();
    })().catch((e: unknown) => {
      // closing the sender at shutdown fails the send in progress: that is no error
      if (!stopped) log.error({ err: e }, 'the demo simulator stopped');
    });

    return {
      async stop() {
        stopped = true;
        await sim?.stop(2_000);
        await sender?.close();
        await running;
      },
    };
  },
};

/** host:port of the server once /readyz answers 200, or undefined when stopped first. */
async function whenReady(ctx: AppContext, stopped: () => boolean): Promise<string | undefined> {
  while (!stopped()) {
    const address = listening(ctx);
    if (address && (await readyz(address))) return address;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return undefined;
}

function listening(ctx: AppContext): string | undefined {
  try {
    const { host, port } = ctx.address();
    if (!port) return undefined;
    // a server bound to every interface is reached on loopback
    const h = host === '0.0.0.0' || host === '::' || host === '' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
    return `${h}:${port}`;
  } catch {
    return undefined;
  }
}

function readyz(address: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(`http://${address}/readyz`, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.setTimeout(2_000, () => req.destroy());
  });
}
