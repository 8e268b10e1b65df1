import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LmdbStore } from '../../src/store/lmdb-store.js';
import { runStoreContract } from '../contracts/store-contract.js';

runStoreContract('lmdb', {
  async create() {
    const dir = mkdtempSync(path.join(tmpdir(), 'hextwin-lmdb-'));
    return { store: new LmdbStore(dir), reopen: async () => new LmdbStore(dir) };
  },
});
