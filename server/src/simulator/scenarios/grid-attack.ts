/**
 * A coordinated attack on the power grid in three large cities: every node within 20 km of each
 * city centre reports severe, about half the nodes of the surrounding ring moderate, for 20 minutes
 * of event time. On the map: three clusters of CRITICAL alerts.
 */
import { haversineKm } from '@hextwin/shared';
import { metroCentres } from '../cities.js';
import type { WireEnvelope } from '../fleet.js';
import type { Scenario } from './scenario.js';
import { MINUTE } from './scenario.js';

const CORE_KM = 20;
const RING_KM = 35;
const CANDIDATE_CITIES = 25;

export const gridAttack: Scenario = {
  name: 'grid-attack',
  description: 'Coordinated attack on the power grid in three cities: clusters of severe grid nodes for 20 minutes.',
  apply(world, t, rng) {
    const grid = world.require('grid', 'grid-attack');
    const candidates = metroCentres(CANDIDATE_CITIES);
    const targets = rng.sample(candidates.length, 3).map((i) => candidates[i]!);
    const until = t + 20 * MINUTE;
    const messages: WireEnvelope[] = [];
    let severe = 0;
    for (const city of targets) {
      for (const i of grid.nodesWithin(city, RING_KM)) {
        if (grid.isSilent(i, t)) continue;
        const core = haversineKm(city, grid.position(i)) <= CORE_KM;
        if (!core && !rng.chance(0.5)) continue;
        const condition = core ? 'severe' : 'moderate';
        if (core) severe++;
        grid.force(i, condition, until);
        messages.push(grid.status(i, condition, t));
      }
    }
    const where = targets.map((c) => `${c.name}, ${c.state}`).join('; ');
    return { messages, summary: `attack on the grid around ${where}: ${severe} severe and ${messages.length - severe} moderate nodes` };
  },
};
