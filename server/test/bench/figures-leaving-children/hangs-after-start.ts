/** A figure that starts the real server, says its PID, and waits: interrupting the bench must stop the server. */
import type { Figure } from '../../../bench/bench.js';
import { startBenchServer } from '../../../bench/connectors/processes.js';

const figure: Figure = {
  name: 'fixture.hangs-after-start',
  async run(b) {
    const server = await startBenchServer();
    b.progress(`server pid ${server.pid}`);
    await new Promise(() => {});
  },
};
export default figure;
