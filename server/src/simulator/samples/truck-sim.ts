/**
 * The demo's trucks as a simulation model: each instance is one truck of the `truck` fleet (a lane
 * between two real cities, a driver, cargo, planned stops). Every 30 simulated seconds it sends its
 * twin a reading along its leg, or, when it has turned round, an init with its new route.
 */
import { defineModel } from '@hextwin/shared';
import { TruckFleet } from '@hextwin/server/simulator/truck-fleet';

export function truckSimulation(options: { count?: number; seed?: number | string; stepMs?: number; fleet?: TruckFleet } = {}) {
  const count = options.fleet?.size ?? options.count ?? 2_000;
  // lanes and trucks of the whole fleet, built once when the first instance is created
  let fleet: TruckFleet | undefined = options.fleet;
  return defineModel<{ index: number }>({
    name: 'truck-sim',
    description: 'simulated trucks feeding truck twins',
    init(id) {
      fleet ??= new TruckFleet({ count, seed: options.seed ?? 1 });
      return { index: Number(id.slice(id.lastIndexOf('-') + 1)) - 1 };
    },
    process: () => 'none',
    simulate(ctx, s, now) {
      ctx.emit(fleet!.message(s.index, now).message);
    },
    simulation: { instances: count, idPrefix: 'truck', target: 'truck', stepMs: options.stepMs ?? 30_000 },
  });
}

export const truckSim = truckSimulation();
