/** Every demo scenario the simulator offers. */
import { HextwinError } from '@hextwin/shared';
import { gasLeak } from './gas-leak.js';
import { gridAttack } from './grid-attack.js';
import { positiveTest } from './positive-test.js';
import { regionalOutage } from './regional-outage.js';
import type { Scenario } from './scenario.js';

export type { Scenario, ScenarioEffect } from './scenario.js';

export const SCENARIOS: readonly Scenario[] = [gridAttack, regionalOutage, gasLeak, positiveTest];

/** The scenario of that name, or NOT_FOUND listing the names there are. */
export function findScenario(name: string): Scenario {
  const s = SCENARIOS.find((x) => x.name === name);
  if (!s) throw new HextwinError('NOT_FOUND', `no scenario named ${JSON.stringify(name)}; there are: ${SCENARIOS.map((x) => x.name).join(', ')}`);
  return s;
}
