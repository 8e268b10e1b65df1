import { MemoryStore } from '../../src/store/memory-store.js';
import { runStoreContract } from '../contracts/store-contract.js';

runStoreContract('memory', {
  async create() {
    const store = new MemoryStore();
    return { store, reopen: async () => store };
  },
});
