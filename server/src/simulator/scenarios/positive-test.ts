/**
 * A positive test at the office: an employee who met three colleagues in the past day tests
 * positive; the twins notify their contacts, and the contacts of those contacts.
 */
import type { WireEnvelope } from '../fleet.js';
import type { Scenario } from './scenario.js';
import { MINUTE } from './scenario.js';

export const positiveTest: Scenario = {
  name: 'positive-test',
  description: 'Positive test at the office: an employee tests positive and exposure notices spread through contacts.',
  apply(world, t, rng) {
    const office = world.require('office', 'positive-test');
    let patient = rng.int(office.size);
    for (let tries = 0; tries < office.size && office.atHome(patient, t); tries++) patient = (patient + 1) % office.size;
    const messages: WireEnvelope[] = [];
    // recent meetings first, so the notice has somewhere to go whatever the office did before
    for (let k = 3; k >= 1; k--) {
      const at = t - k * 90 * MINUTE;
      const other = office.colleague(patient, at);
      if (other >= 0) messages.push(office.contact(patient, other, at));
    }
    messages.push(office.positiveTest(patient, t));
    return {
      messages,
      summary: `${office.id(patient)} (${office.employees[patient]!.department}) tested positive after ${messages.length - 1} recent contacts`,
    };
  },
};
