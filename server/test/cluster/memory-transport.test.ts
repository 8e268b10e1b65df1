import { MemoryBus, MemoryTransport } from '../../src/cluster/memory-transport.js';
import { runTransportContract } from '../../src/cluster/transport-contract.js';

runTransportContract('memory', {
  async create() {
    const bus = new MemoryBus();
    const a = new MemoryTransport(bus);
    const b = new MemoryTransport(bus);
    return { a, b, cleanup: async () => (await a.close(), await b.close()) };
  },
});
