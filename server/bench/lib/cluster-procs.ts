/**
 * Real processes for the cluster figure: a nats-server with JetStream on a free loopback port and
 * hextwin nodes joined to it, each stopped by PID.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, spawnServer } from './child.js';
import { trackChild } from './children.js';
export { freePort };

export function natsServerInstalled(): boolean {
  return spawnSync('nats-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

export interface Proc {
  url: string;
  port: number;
  child: ChildProcess;
  output(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

function track(child: ChildProcess, url: string, port: number, cleanup?: () => void): Proc {
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  child.stderr?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    url,
    port,
    child,
    output: () => out,
    async kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
        const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(t);
      }
      cleanup?.();
    },
  };
}

async function waitFor(ok: () => Promise<boolean>, ms: number, what: string, proc: Proc): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ok().catch(() => false))) {
    if (proc.child.exitCode !== null) throw new Error(`${what} exited:\n${proc.output().slice(-2_000)}`);
    if (Date.now() > deadline) throw new Error(`${what} not ready after ${ms} ms:\n${proc.output().slice(-2_000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startNatsServer(): Promise<Proc> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'hextwin-bench-nats-'));
  const child = trackChild(
    spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir], { stdio: ['ignore', 'pipe', 'pipe'] }),
    `nats-server on port ${port}`,
    () => rmSync(dir, { recursive: true, force: true }),
  );
  const proc = track(child, `nats://127.0.0.1:${port}`, port, () => rmSync(dir, { recursive: true, force: true }));
  const connects = () =>
    new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
  await waitFor(connects, 10_000, 'nats-server', proc);
  return proc;
}

/** A hextwin node (the real server, as `pnpm start` runs it) joined to `natsUrl`, or embedded when it is undefined. */
export async function startNode(opts: {
  natsUrl?: string;
  nodeId: string;
  modelsDir: string;
  env?: Record<string, string>;
  nodeArgs?: string[];
}): Promise<Proc> {
  const { child, port, url, dataDir } = await spawnServer({
    modelsDir: opts.modelsDir,
    nodeArgs: opts.nodeArgs,
    stdio: 'pipe',
    env: { NODE_ID: opts.nodeId, MAX_QUEUED: '2000000', ...(opts.natsUrl ? { NATS_URL: opts.natsUrl } : {}), ...opts.env },
  });
  const proc = track(child, url, port, () => rmSync(dataDir, { recursive: true, force: true }));
  await waitFor(async () => (await fetch(url + '/readyz')).status === 200, 60_000, `node ${opts.nodeId}`, proc);
  return proc;
}

/** Sum of a counter over the nodes' /metrics. */
export async function counterSum(urls: string[], name: string): Promise<number> {
  let n = 0;
  for (const u of urls) {
    const text = await (await fetch(u + '/metrics')).text();
    for (const line of text.split('\n')) if (line.startsWith(name + '{') || line.startsWith(name + ' ')) n += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return n;
}
