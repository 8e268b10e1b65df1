/** The simulated world: the fleets of every sample model, built from one seed. */
import { HextwinError } from '@hextwin/shared';
import type { Fleet } from './fleet.js';
import { GasFleet } from './gas-fleet.js';
import { GridFleet } from './grid-fleet.js';
import { OfficeFleet } from './office-fleet.js';
import { TruckFleet } from './truck-fleet.js';
import { WindFleet } from './wind-fleet.js';

/** How many devices of each model; 0 leaves a model out. */
export interface WorldSize {
  'grid-node': number;
  truck: number;
  'gas-sensor': number;
  'wind-turbine': number;
  employee: number;
}

export const MODELS = ['grid-node', 'truck', 'gas-sensor', 'wind-turbine', 'employee'] as const;
export type SimulatedModel = (typeof MODELS)[number];

/** The demo: 20,000 grid nodes, 2,000 trucks, gas sensors in 5 cities, 8 wind farms, an office of 200. */
export const DEMO_SIZE: WorldSize = { 'grid-node': 20_000, truck: 2_000, 'gas-sensor': 50, 'wind-turbine': 200, employee: 200 };

const GAS_CITIES = 5;
const WIND_FARMS = 8;

export class World {
  readonly grid: GridFleet | undefined;
  readonly trucks: TruckFleet | undefined;
  readonly gas: GasFleet | undefined;
  readonly wind: WindFleet | undefined;
  readonly office: OfficeFleet | undefined;
  readonly fleets: Fleet[];

  constructor(
    readonly seed: number | string,
    size: Partial<WorldSize>,
  ) {
    const n = (m: SimulatedModel) => size[m] ?? 0;
    this.grid = n('grid-node') > 0 ? new GridFleet({ count: n('grid-node'), seed }) : undefined;
    this.trucks = n('truck') > 0 ? new TruckFleet({ count: n('truck'), seed }) : undefined;
    this.gas = n('gas-sensor') > 0 ? new GasFleet({ count: n('gas-sensor'), cities: GAS_CITIES, seed }) : undefined;
    this.wind = n('wind-turbine') > 0 ? new WindFleet({ count: n('wind-turbine'), farms: WIND_FARMS, seed }) : undefined;
    this.office = n('employee') > 0 ? new OfficeFleet({ count: n('employee'), seed }) : undefined;
    this.fleets = [this.grid, this.trucks, this.gas, this.wind, this.office].filter((f): f is NonNullable<typeof f> => f !== undefined);
  }

  fleet(model: string): Fleet | undefined {
    return this.fleets.find((f) => f.model === model);
  }

  /** A fleet a scenario needs, or a clear error when this world was built without it. */
  require<K extends 'grid' | 'trucks' | 'gas' | 'wind' | 'office'>(which: K, scenario: string): NonNullable<World[K]> {
    const fleet = this[which];
    if (!fleet) throw new HextwinError('BAD_REQUEST', `scenario ${scenario} needs the ${FLEET_MODEL[which]} fleet, which this simulation does not run`);
    return fleet as NonNullable<World[K]>;
  }
}

const FLEET_MODEL = { grid: 'grid-node', trucks: 'truck', gas: 'gas-sensor', wind: 'wind-turbine', office: 'employee' } as const;

export function isSimulatedModel(name: string): name is SimulatedModel {
  return (MODELS as readonly string[]).includes(name);
}
