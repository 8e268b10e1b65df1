/**
 * Who has the LMDB store open. LMDB keeps a reader table in `hextwin.lmdb-lock`, one slot per
 * process that reads the environment, and a running server always holds one (its tables and cached
 * read transaction). `readerCheck` first clears slots of processes that died (LMDB tests a lock
 * each live process holds, so a reused pid does not count), so what is left are live processes.
 */
import type { RootDatabase } from 'lmdb';

export function storeHolders(env: RootDatabase): number[] {
  env.readerCheck();
  const pids = new Set<number>();
  for (const line of env.readerList().split('\n')) {
    const m = /^\s*(\d+)\s+[0-9a-f]+\s/i.exec(line);
    if (m && Number(m[1]) !== process.pid) pids.add(Number(m[1]));
  }
  return [...pids];
}
