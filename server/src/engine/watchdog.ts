/**
 * The model watchdog: a worker thread that notices when a model's synchronous code holds the
 * event loop past its budget (an endless loop). JavaScript cannot be interrupted from outside
 * without ending the process, so the watchdog notes the twin (a small file beside the store) and
 * ends the process with SIGKILL — which the durable log is built to survive: nothing acknowledged
 * is lost. On restart the engine reads the note and quarantines that twin before replaying, so
 * the same message cannot hang it again; a supervisor (systemd, compose, Kubernetes) restarts it.
 *
 * The main thread pays two shared-memory writes and a short key copy per batch.
 */
import { keyString } from '@hextwin/shared';
import { Worker } from 'node:worker_threads';

const KEY_BYTES = 1024;

/** The note's file name in the state directory (DATA_DIR). */
export const WATCHDOG_NOTE = 'watchdog-quarantine.json';

const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const fs = require('node:fs');
const ctl = new Int32Array(workerData.sab, 0, 2);
const keyBuf = new Uint8Array(workerData.sab, 8, workerData.keyBytes);
let seen = -1, since = Date.now();
setInterval(() => {
  const run = Atomics.load(ctl, 0);
  if (Atomics.load(ctl, 1) !== 1 || run !== seen) { seen = run; since = Date.now(); return; }
  const ms = Date.now() - since;
  if (ms < workerData.budgetMs) return;
  const len = keyBuf.indexOf(0);
  const key = Buffer.from(keyBuf.subarray(0, len < 0 ? keyBuf.length : len)).toString('utf8');
  const slash = key.indexOf('/');
  const rec = { model: key.slice(0, slash), id: key.slice(slash + 1), code: 'MODEL_TIMEOUT',
    reason: 'its model code ran for more than ' + workerData.budgetMs + ' ms without returning', at: Date.now() };
  try {
    const tmp = workerData.note + '.tmp';
    const fd = fs.openSync(tmp, 'w', 0o600);
    fs.writeSync(fd, JSON.stringify(rec));
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fs.renameSync(tmp, workerData.note);
  } catch (e) {}
  fs.writeSync(2, JSON.stringify({ level: 60, time: Date.now(), msg: 'a model hung: quarantining the twin and ending the process (restart it: nothing acknowledged is lost)', code: 'MODEL_TIMEOUT', model: rec.model, id: rec.id, ms }) + '\\n');
  process.kill(process.pid, 'SIGKILL');
}, Math.max(5, Math.min(250, workerData.budgetMs / 4)));
`;

export class ModelWatchdog {
  private static instance: ModelWatchdog | null = null;
  private readonly ctl: Int32Array;
  private readonly key: Uint8Array;
  private readonly encoder = new TextEncoder();
  private lastKey = '';
  private readonly worker: Worker;

  private constructor(budgetMs: number, note: string) {
    const sab = new SharedArrayBuffer(8 + KEY_BYTES);
    this.ctl = new Int32Array(sab, 0, 2);
    this.key = new Uint8Array(sab, 8, KEY_BYTES);
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { sab, budgetMs, note, keyBytes: KEY_BYTES } });
    this.worker.unref();
  }

  /** One watchdog per process (the cluster runs many engines in one). */
  static start(budgetMs: number, note: string): ModelWatchdog {
    return (ModelWatchdog.instance ??= new ModelWatchdog(budgetMs, note));
  }

  /** Model code of this twin starts running. */
  enter(model: string, id: string): void {
    const k = keyString(model, id);
    if (k !== this.lastKey) {
      const { written } = this.encoder.encodeInto(k, this.key.subarray(0, KEY_BYTES - 1));
      this.key[written] = 0;
      this.lastKey = k;
    }
    Atomics.add(this.ctl, 0, 1);
    Atomics.store(this.ctl, 1, 1);
  }

  /** Model code returned (or threw). */
  exit(): void {
    Atomics.store(this.ctl, 1, 0);
  }

  static stop(): void {
    void ModelWatchdog.instance?.worker.terminate();
    ModelWatchdog.instance = null;
  }
}
