/** A figure that starts the real server, says its PID, and throws: the bench must stop the server. */
import type { Figure } from '../../../bench/bench.js';
import { startBenchServer } from '../../../bench/connectors/processes.js';

const figure: Figure = {
  name: 'fixture.fails-after-start',
  async run(b) {
    const server = await startBenchServer();
    b.progress(`server pid ${server.pid}`);
    throw new Error('this figure fails on purpose');
  },
};
export default figure;
