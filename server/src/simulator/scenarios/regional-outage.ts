/**
 * A regional power outage: every grid node of one state reports offline, then falls silent for
 * 15 minutes of event time (their twins mark them unreachable), then comes back normal.
 */
import type { WireEnvelope } from '../fleet.js';
import type { Scenario } from './scenario.js';
import { MINUTE } from './scenario.js';

/** pick among the regions with the most nodes, so the outage is visible on the map */
const CANDIDATE_REGIONS = 12;

export const regionalOutage: Scenario = {
  name: 'regional-outage',
  description: 'Regional outage: every grid node of one state goes offline, then silent for 15 minutes.',
  apply(world, t, rng) {
    const grid = world.require('grid', 'regional-outage');
    const regions = grid.regions().slice(0, CANDIDATE_REGIONS);
    const { region } = rng.pick(regions);
    const until = t + 15 * MINUTE;
    const messages: WireEnvelope[] = [];
    for (const i of grid.nodesInRegion(region)) {
      messages.push(grid.status(i, 'offline', t));
      grid.silence(i, until);
    }
    return { messages, summary: `outage in ${region}: ${messages.length} grid nodes offline` };
  },
};
