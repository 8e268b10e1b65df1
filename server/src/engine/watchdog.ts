/**
 * The model watchdog: a worker thread that notices when a model's synchronous code holds the
 * event loop past its budget (an endless loop). JavaScript cannot be interrupted from outside
 * without ending the process, so the watchdog notes the twin (a small file beside the store) and
 * ends the process with SIGKILL — which the durable log is built to survive: nothing acknowledged
 * is lost. On restart the engine reads the note and quarantines that twin before replaying, so
 * the same message cannot hang it again; a supervisor (systemd, compose, Kubernetes) restarts it.
 *
 * In a cluster the worker puts the record into the cluster's quarantine bucket instead, before the
 * kill, so the node that takes the partition over quarantines the twin before replaying (no
 * cascade of nodes hanging on the same message); see watchdog-worker.mjs.
 *
 * The main thread pays two shared-memory writes and a short key copy per batch.
 */
import { keyString } from '@hextwin/shared';
import { Worker } from 'node:worker_threads';
import type { NatsCredentials } from '../cluster/nats-settings.js';

const KEY_BYTES = 1024;

/** The note's file name in the state directory (DATA_DIR). */
export const WATCHDOG_NOTE = 'watchdog-quarantine.json';

/**
 * Where the worker puts a hung twin's record in cluster mode: plain strings only (workerData is
 * copied, and the worker builds its own NATS connection from them; see nats-settings.ts).
 */
export interface WatchdogCluster extends NatsCredentials {
  servers: string[];
  /** connection name, shown by the NATS server */
  name: string;
  /** the cluster's quarantine KV bucket */
  bucket: string;
  /** ms to wait for JetStream to store the record before noting it on local disk instead */
  putTimeoutMs: number;
}

export class ModelWatchdog {
  private static instance: ModelWatchdog | null = null;
  private readonly ctl: Int32Array;
  private readonly key: Uint8Array;
  private readonly encoder = new TextEncoder();
  private lastKey = '';
  private readonly worker: Worker;

  private constructor(
    readonly budgetMs: number,
    note: string,
    cluster: WatchdogCluster | undefined,
  ) {
    const sab = new SharedArrayBuffer(8 + KEY_BYTES);
    this.ctl = new Int32Array(sab, 0, 2);
    this.key = new Uint8Array(sab, 8, KEY_BYTES);
    this.worker = new Worker(new URL('./watchdog-worker.mjs', import.meta.url), {
      workerData: { sab, budgetMs, note, keyBytes: KEY_BYTES, cluster: cluster ?? null },
    });
    this.worker.unref();
  }

  /**
   * One watchdog per process (the cluster runs many engines in one). `note`: the file for a hung
   * twin's record; `cluster`: put the record into the cluster's quarantine bucket first.
   */
  static start(budgetMs: number, note: string, cluster?: WatchdogCluster): ModelWatchdog {
    return (ModelWatchdog.instance ??= new ModelWatchdog(budgetMs, note, cluster));
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
