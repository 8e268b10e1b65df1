/**
 * A gas leak in one city: the sensor at the leak reads 250 ppm (its twin sounds the alarm at once
 * and shuts the pipe), sensors within 6 km read 60 to 150 ppm (over the limit; an alarm after 15
 * minutes if it lasts). The leak lasts 30 minutes of event time, or until a sensor's device obeys
 * the shutdown command.
 */
import { haversineKm } from '@hextwin/shared';
import type { WireEnvelope } from '../fleet.js';
import type { Scenario } from './scenario.js';
import { MINUTE } from './scenario.js';

const NEARBY_KM = 6;

export const gasLeak: Scenario = {
  name: 'gas-leak',
  description: 'Gas leak in one city: one sensor over 200 ppm, its neighbours over the 50 ppm limit, for 30 minutes.',
  apply(world, t, rng) {
    const gas = world.require('gas', 'gas-leak');
    const epicentre = rng.int(gas.size);
    const centre = gas.sensors[epicentre]!;
    const until = t + 30 * MINUTE;
    const messages: WireEnvelope[] = [];
    gas.sensors.forEach((s, i) => {
      if (i === epicentre) gas.leak(i, 250, until);
      else if (s.city === centre.city && haversineKm(s, centre) <= NEARBY_KM) gas.leak(i, rng.range(60, 150), until);
      else return;
      messages.push(gas.reading(i, t));
    });
    return { messages, summary: `gas leak at ${centre.site} (${centre.id}): ${messages.length} sensors over the limit` };
  },
};
