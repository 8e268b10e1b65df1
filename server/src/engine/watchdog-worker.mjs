/**
 * The model watchdog's thread (see watchdog.ts). It polls two shared integers the main thread
 * bumps around model code; when one model call has run past the budget it records the hung twin
 * and SIGKILLs the process (JavaScript cannot be interrupted any other way).
 *
 * Embedded: the record is a small file beside the store, read back at restart. Cluster: the worker
 * holds its own NATS connection (the main thread is frozen, so it cannot use the node's) and puts
 * the record into the cluster's quarantine bucket before the kill, so whichever node takes the
 * partition over finds it before it replays the message that hung. Only when that put fails (NATS
 * unreachable) does it fall back to the local file, which the node publishes when it restarts.
 *
 * Plain JavaScript: a worker runs outside the tsx loader's reach.
 */
import { workerData } from 'node:worker_threads';
import fs from 'node:fs';

const { sab, keyBytes, budgetMs, note, cluster } = workerData;
const ctl = new Int32Array(sab, 0, 2);
const keyBuf = new Uint8Array(sab, 8, keyBytes);

/** the cluster's quarantine bucket once connected (null: embedded, or not connected yet) */
let kv = null;

function log(level, msg, extra) {
  fs.writeSync(2, JSON.stringify({ level, time: Date.now(), part: 'watchdog', msg, ...extra }) + '\n');
}

async function connectCluster() {
  const { connect, credsAuthenticator, nkeyAuthenticator } = await import('@nats-io/transport-node');
  const { Kvm } = await import('@nats-io/kv');
  const o = {
    servers: cluster.servers,
    name: cluster.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    waitOnFirstConnect: true,
  };
  if (cluster.user) Object.assign(o, { user: cluster.user, pass: cluster.password ?? '' });
  if (cluster.token) o.token = cluster.token;
  if (cluster.credsFile) o.authenticator = credsAuthenticator(fs.readFileSync(cluster.credsFile));
  const seed = cluster.nkeySeed ?? (cluster.nkeySeedFile ? fs.readFileSync(cluster.nkeySeedFile, 'utf8').trim() : undefined);
  if (seed) o.authenticator = nkeyAuthenticator(new TextEncoder().encode(seed));
  if (cluster.tls) o.tls = { ...cluster.tls };
  const nc = await connect(o);
  kv = await new Kvm(nc).open(cluster.bucket);
}

if (cluster) {
  connectCluster().catch((err) =>
    log(40, 'the model watchdog could not reach NATS: a hang will be noted on local disk only', { err: String(err?.message ?? err) }),
  );
}

function writeNote(rec) {
  try {
    const tmp = note + '.tmp';
    const fd = fs.openSync(tmp, 'w', 0o600);
    fs.writeSync(fd, JSON.stringify(rec));
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fs.renameSync(tmp, note);
  } catch {
    // nothing more to do: the twin will hang again after the restart and be noted again
  }
}

/** Put the record into the cluster bucket (acknowledged by JetStream, so stored); false when that fails or takes too long. */
async function share(rec) {
  if (!kv) return false;
  const key = Buffer.from(rec.model + '/' + rec.id, 'utf8').toString('base64url');
  let timer;
  try {
    await Promise.race([
      kv.put(key, JSON.stringify(rec)),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('timed out')), cluster.putTimeoutMs))),
    ]);
    return true;
  } catch (err) {
    log(50, 'could not put the hung twin into the cluster quarantine: noting it on local disk', { err: String(err?.message ?? err) });
    return false;
  } finally {
    clearTimeout(timer);
  }
}

async function fire(rec, ms) {
  const shared = cluster ? await share(rec) : false;
  if (!shared) writeNote(rec);
  log(60, 'a model hung: quarantining the twin and ending the process (restart it: nothing acknowledged is lost)', {
    code: 'MODEL_TIMEOUT',
    model: rec.model,
    id: rec.id,
    ms,
    cluster: shared,
  });
  process.kill(process.pid, 'SIGKILL');
}

let seen = -1;
let since = Date.now();
let firing = false;
setInterval(
  () => {
    if (firing) return;
    const run = Atomics.load(ctl, 0);
    if (Atomics.load(ctl, 1) !== 1 || run !== seen) {
      seen = run;
      since = Date.now();
      return;
    }
    const ms = Date.now() - since;
    if (ms < budgetMs) return;
    firing = true;
    const len = keyBuf.indexOf(0);
    const key = Buffer.from(keyBuf.subarray(0, len < 0 ? keyBuf.length : len)).toString('utf8');
    const slash = key.indexOf('/');
    const rec = {
      model: key.slice(0, slash),
      id: key.slice(slash + 1),
      code: 'MODEL_TIMEOUT',
      reason: 'its model code ran for more than ' + budgetMs + ' ms without returning',
      at: Date.now(),
    };
    void fire(rec, ms);
  },
  Math.max(5, Math.min(250, budgetMs / 4)),
);
