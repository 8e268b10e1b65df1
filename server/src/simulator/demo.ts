/**
 * The demo's devices (`pnpm demo`): the sample simulation models of `samples/`, sized as the demo
 * and all placed by one World of fleets, so the demo scenarios (which change that World: a forced
 * or silenced grid node, a leaking sensor) reach the simulated devices. Each model's step is set so
 * that the devices together send about `rate` messages a second, every device of a fleet equally
 * often, in the proportions the fleets always had (a phone reports far less often than a grid node).
 */
import type { ModelDefinition } from '@hextwin/shared';
import type { Fleet } from './fleet.js';
import { employeeSimulation } from './samples/employee-sim.js';
import { gasSensorSimulation } from './samples/gas-sensor-sim.js';
import { gridNodeSimulation } from './samples/grid-node-sim.js';
import { truckSimulation } from './samples/truck-sim.js';
import { windSimulation } from './samples/wind-turbine-sim.js';
import type { World } from './world.js';

/** Simulated ms between two messages of one device of each fleet, for `rate` messages a second in all. */
export function demoStepMs(world: World, rate: number): Map<Fleet, number> {
  const weight = world.fleets.reduce((sum, f) => sum + f.size * f.rateShare, 0);
  return new Map(world.fleets.map((f) => [f, Math.max(1, Math.round((1000 * weight) / (rate * f.rateShare)))]));
}

/** The simulation models that simulate `world`'s devices at about `rate` messages a second. */
export function demoModels(world: World, rate: number): ModelDefinition[] {
  const step = demoStepMs(world, rate);
  const seed = world.seed;
  const out: ModelDefinition[] = [];
  if (world.grid) out.push(gridNodeSimulation({ fleet: world.grid, seed, stepMs: step.get(world.grid) }) as ModelDefinition);
  if (world.trucks) out.push(truckSimulation({ fleet: world.trucks, seed, stepMs: step.get(world.trucks) }) as ModelDefinition);
  // in the demo a leak comes from the gas-leak scenario only
  if (world.gas) out.push(gasSensorSimulation({ fleet: world.gas, seed, leakAfterMs: null, stepMs: step.get(world.gas) }) as ModelDefinition);
  if (world.wind) out.push(...(windSimulation({ fleet: world.wind, seed, stepMs: step.get(world.wind) }) as ModelDefinition[]));
  if (world.office) out.push(employeeSimulation({ fleet: world.office, seed, stepMs: step.get(world.office) }) as ModelDefinition);
  return out;
}
