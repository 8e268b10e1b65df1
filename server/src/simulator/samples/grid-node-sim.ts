/**
 * The demo's grid nodes as a simulation model: each instance is one node, placed as the `grid-node`
 * fleet places it (around US population centres), that introduces itself at its first step and then
 * reports its condition every `stepMs`, with the fleet's rare incidents that mostly clear again.
 * A scenario (grid-attack, regional-outage) forces or silences nodes through the fleet, and the
 * node reports what the scenario says while it lasts.
 * Copy it to make your own devices: `init` gives the instance its state, `simulate` emits a message
 * to the real-time twin of the same id and the platform runs the next step `stepMs` later. It
 * imports by package name (`@hextwin/server/...`), so a copy in MODELS_DIR runs as it is.
 */
import { defineModel } from '@hextwin/shared';
import { CLEAR, GridFleet, ONSET, type GridCondition } from '@hextwin/server/simulator/grid-fleet';
import { Random } from '@hextwin/server/simulator/random';

interface GridNodeSimState {
  index: number;
  introduced: boolean;
  condition: GridCondition;
  rng: Random;
}

export interface GridNodeSimOptions {
  count?: number;
  seed?: number | string;
  /** simulated ms between two reports of a node (default one minute) */
  stepMs?: number;
  /** the placement (and scenario state) to use, shared with the demo's scenarios; default: built from count and seed */
  fleet?: GridFleet;
}

export function gridNodeSimulation(options: GridNodeSimOptions = {}) {
  const count = options.fleet?.size ?? options.count ?? 20_000;
  const seed = options.seed ?? 1;
  // the placement of every node, built once when the first instance is created
  let placement: GridFleet | undefined = options.fleet;
  return defineModel<GridNodeSimState>({
    name: 'grid-node-sim',
    description: 'simulated grid nodes feeding grid-node twins',
    init(id) {
      placement ??= new GridFleet({ count, seed });
      return { index: Number(id.slice(id.lastIndexOf('-') + 1)) - 1, introduced: false, condition: 'normal', rng: Random.derive(seed, `grid-node-sim/${id}`) };
    },
    process: () => 'none',
    simulate(ctx, s, now) {
      const f = placement!;
      if (!s.introduced) {
        s.introduced = true;
        const i = s.index;
        ctx.emit({
          type: 'init',
          nodeType: f.controller[i] ? 'controller' : 'infrastructure',
          region: f.region[i]!,
          lat: f.lat[i]!,
          lng: f.lng[i]!,
          timestamp: now,
        });
        return;
      }
      // a scenario decides while it lasts: silent nodes say nothing, forced ones report what it says
      if (f.isSilent(s.index, now)) return;
      const forced = f.override(s.index, now);
      if (forced !== undefined) {
        s.condition = 'normal';
        ctx.emit({ type: 'status', condition: forced, timestamp: now });
        return;
      }
      if (s.condition === 'normal') {
        for (const [condition, p] of ONSET) {
          if (s.rng.chance(p)) {
            s.condition = condition;
            break;
          }
        }
      } else if (s.rng.chance(CLEAR[s.condition])) s.condition = 'normal';
      ctx.emit({ type: 'status', condition: s.condition, timestamp: now });
    },
    simulation: { instances: count, idPrefix: 'node', target: 'grid-node', stepMs: options.stepMs ?? 60_000 },
  });
}

export const gridNodeSim = gridNodeSimulation();
