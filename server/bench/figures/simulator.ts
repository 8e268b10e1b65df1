/**
 * How fast the simulator makes the demo world's messages (no network): the load generator must
 * stay far ahead of the rates the ingest figures measure, or it, not the server, would be measured.
 */
import pino from 'pino';
import type { Figure } from '../bench.js';
import { opsPerSecond } from '../lib/measure.js';
import { PrintSender } from '../../src/simulator/print-sender.js';
import { Simulator } from '../../src/simulator/simulator.js';
import { DEMO_SIZE, World } from '../../src/simulator/world.js';
import { Writable } from 'node:stream';

const figure: Figure = {
  name: 'simulator.generate',
  async run(b) {
    b.progress('building the demo world');
    const nowhere = new Writable({ write: (_c, _e, done) => done() });
    const world = new World('bench', DEMO_SIZE);
    const sim = new Simulator({
      world,
      sender: new PrintSender(nowhere),
      rate: 1_000_000,
      start: Date.parse('2025-01-01T00:00:00Z'),
      logger: pino({ level: 'silent' }),
    });
    // past the init messages, into the steady stream
    sim.take(world.fleets.reduce((n, f) => n + f.setupSize, 0));
    let sink = 0;
    const rate = opsPerSecond(
      () => {
        for (const m of sim.take(1_000)) sink += JSON.stringify(m).length;
        return 1_000;
      },
      b.quick ? 300 : 1_000,
      3,
    );
    if (sink === 0) throw new Error('the simulator made no messages');
    b.report({ name: 'simulator.generate', value: rate, unit: 'msgs/s (made and serialised, one core)', goal: 'well above the ingest figures' });
  },
};

export default figure;
