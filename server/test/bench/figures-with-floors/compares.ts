/** A figure quoted against a floor it names and against a peer it reports first. */
import type { Figure } from '../../../bench/bench.js';
import { Floor } from '../../../bench/floors.js';

const figure: Figure = {
  name: 'fixture.compares',
  floors: [Floor.filterScan],
  async run(b) {
    b.report({ name: 'fixture.scan', value: 2 * b.floor(Floor.filterScan)!, unit: 'ms', floor: Floor.filterScan });
    b.report({ name: 'fixture.peer', value: 8, unit: 'µs' });
    b.report({ name: 'fixture.ours', value: 2, unit: 'µs', floor: 'fixture.peer', goal: 'ratio <= 0.5' });
  },
};
export default figure;
