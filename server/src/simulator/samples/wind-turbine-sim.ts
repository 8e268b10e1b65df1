/**
 * The demo's wind farms as simulation models. `wind-farm-sim` is a builder: its one instance places
 * the farms and turbines as the `wind-turbine` fleet does, creates one `wind-turbine-sim` instance
 * per turbine (`ctx.createTwin`) and leaves (`ctx.removeSelf`). Each turbine introduces itself to its
 * `wind-turbine` twin (model, next maintenance, position), then reports temperature and rpm every
 * 30 simulated seconds: the farm's wind swings over six hours, and now and then a turbine overheats
 * or slows down for a few minutes.
 */
import { defineModel } from '@hextwin/shared';
import { Random } from '@hextwin/server/simulator/random';
import { WindFleet } from '@hextwin/server/simulator/wind-fleet';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const FAULT_CHANCE = 0.0003;

interface TurbineState {
  index: number;
  introduced: boolean;
  fault: { kind: 'overheat' | 'slow'; until: number } | null;
  rng: Random;
}

export interface WindSimOptions {
  count?: number;
  farms?: number;
  seed?: number | string;
  /** simulated ms between two reports of a turbine (default 30 s) */
  stepMs?: number;
  /** the farms and turbines to use (default: built from count, farms and seed) */
  fleet?: WindFleet;
}

export function windSimulation(options: WindSimOptions = {}) {
  const seed = options.seed ?? 1;
  let fleet: WindFleet | undefined;
  const builder = defineModel<Record<string, never>>({
    name: 'wind-farm-sim',
    description: 'creates the wind-turbine-sim instances, then leaves',
    init: () => ({}),
    process: () => 'none',
    simulate(ctx) {
      fleet = options.fleet ?? new WindFleet({ count: options.count ?? 200, farms: options.farms ?? 8, seed });
      fleet.turbines.forEach((t, index) => ctx.createTwin('wind-turbine-sim', t.id, { index }));
      ctx.removeSelf();
    },
    simulation: { instances: 1, idPrefix: 'builder' },
  });
  const turbine = defineModel<TurbineState>({
    name: 'wind-turbine-sim',
    description: 'simulated turbines feeding wind-turbine twins',
    init: (id) => ({ index: -1, introduced: false, fault: null, rng: Random.derive(seed, `wind-turbine-sim/${id}`) }),
    process: () => 'none',
    simulate(ctx, s, now) {
      const tb = fleet!.turbines[s.index]!;
      const farm = fleet!.farms[tb.farm]!;
      if (!s.introduced) {
        s.introduced = true;
        const nextMaintenance = new Date(now + farm.maintenanceInDays * DAY).toISOString().slice(0, 10);
        ctx.emit({ type: 'init', turbineModel: farm.turbineModel, nextMaintenance, lat: tb.lat, lng: tb.lng });
        return;
      }
      const r = s.rng;
      if (s.fault && s.fault.until <= now) s.fault = null;
      if (!s.fault && r.chance(FAULT_CHANCE)) s.fault = { kind: r.chance(0.5) ? 'overheat' : 'slow', until: now + r.range(1, 4) * MINUTE };
      const wind = Math.sin((2 * Math.PI * now) / (6 * 60 * MINUTE) + farm.windPhase);
      let rpm = 85 + 15 * wind + r.gaussian(0, 2);
      let temp = 55 + 0.3 * (rpm - 70) + r.gaussian(0, 1.5);
      if (s.fault?.kind === 'slow') rpm = r.range(30, 50);
      if (s.fault?.kind === 'overheat') temp = r.range(105, 115);
      ctx.emit({ temp: Math.round(temp * 10) / 10, rpm: Math.round(rpm * 10) / 10, lat: tb.lat, lng: tb.lng, timestamp: now });
    },
    // created by the builder, not counted
    simulation: { instances: 0, target: 'wind-turbine', stepMs: options.stepMs ?? 30_000 },
  });
  return [builder, turbine];
}

export const windSim = windSimulation();
