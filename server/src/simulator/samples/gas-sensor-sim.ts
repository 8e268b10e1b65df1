/**
 * Gas sensors as a simulation model: sensors at sites of the largest US cities, placed as the
 * `gas-sensor` fleet places them, read a few ppm every 10 simulated seconds. With `leakAfterMs`
 * (default 10 minutes) the first sensor leaks from then on, at about 250 ppm, past the gas-sensor
 * twin's 200 ppm limit; a leak may also come from the demo's gas-leak scenario. A `shutdown`
 * command from the twin closes the sensor's pipe: the leak there stops and it reads normal again.
 */
import { defineModel, type JsonValue } from '@hextwin/shared';
import { GasFleet } from '@hextwin/server/simulator/gas-fleet';

interface GasSensorSimState {
  index: number;
  /** the first step's time */
  startedAt: number | null;
  /** the pipe was closed by a shutdown command */
  shut: boolean;
}

export interface GasSensorSimOptions {
  count?: number;
  /** sites in this many of the largest cities (default 3) */
  cities?: number;
  seed?: number | string;
  /** simulated ms after its first step when sensor 1 starts leaking; null: never (default 10 minutes) */
  leakAfterMs?: number | null;
  stepMs?: number;
  /** the sensors to use, with their ids and leaks (the demo's gas-leak scenario writes there) */
  fleet?: GasFleet;
}

const LEAK_PPM = 250;

export function gasSensorSimulation(options: GasSensorSimOptions = {}) {
  const count = options.fleet?.size ?? options.count ?? 6;
  const leakAfterMs = options.leakAfterMs === undefined ? 10 * 60_000 : options.leakAfterMs;
  // built when the first instance is created (placing sensors reads the city list)
  let fleet: GasFleet | undefined = options.fleet;
  return defineModel<GasSensorSimState, JsonValue>({
    name: 'gas-sensor-sim',
    description: 'simulated gas sensors feeding gas-sensor twins; one of them leaks',
    init(id) {
      fleet ??= new GasFleet({ count, cities: options.cities ?? 3, seed: options.seed ?? 1, idPrefix: 'gas-sim' });
      return { index: fleet.indexOf(id), startedAt: null, shut: false };
    },
    process(ctx, s, commands) {
      for (const c of commands) {
        fleet!.onCommand(ctx.id, c);
        if (c && typeof c === 'object' && !Array.isArray(c) && c.command === 'shutdown') s.shut = true;
      }
      return 'update';
    },
    simulate(ctx, s, now) {
      const f = fleet!;
      if (s.index < 0) {
        ctx.log('warn', `${ctx.id} is not one of the ${f.size} sensors`);
        ctx.removeSelf();
        return;
      }
      s.startedAt ??= now;
      if (leakAfterMs !== null && s.index === 0 && !s.shut && now - s.startedAt >= leakAfterMs && !f.leaking(0, now)) f.leak(0, LEAK_PPM, Infinity);
      ctx.emit(f.reading(s.index, now).message);
    },
    simulation: {
      instances: options.fleet ? options.fleet.sensors.map((x) => x.id) : count,
      idPrefix: 'gas-sim',
      target: 'gas-sensor',
      stepMs: options.stepMs ?? 10_000,
    },
  });
}

export const gasSensorSim = gasSensorSimulation();
