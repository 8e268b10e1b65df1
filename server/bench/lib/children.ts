/**
 * Every process the bench starts (servers, workers, redis, nats, mosquitto, Chromium) is tracked
 * here by PID, so that none outlives what started it: `run.ts` stops what a figure left behind once
 * the figure is over (it failed, or forgot), everything on SIGINT / SIGTERM, and kills what is left
 * at exit. A figure still stops its own processes in `finally`; this is the net under it.
 */
import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

interface Tracked {
  pid: number;
  /** what it is, for the note that says it was stopped */
  what: string;
  running(): boolean;
  /** removes what it left on disk (a data directory), once it has exited */
  cleanup?: () => void;
}

const tracked = new Map<number, Tracked>();

/** Running, and not a zombie waiting for its parent to reap it. */
export function pidRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }
}

/** Tracks `child` until it exits; `cleanup` runs when the bench has to stop it itself. */
export function trackChild<C extends ChildProcess>(child: C, what: string, cleanup?: () => void): C {
  const pid = child.pid;
  if (pid === undefined) return child; // it did not start: its 'error' event says why
  tracked.set(pid, { pid, what, running: () => child.exitCode === null && child.signalCode === null, cleanup });
  child.once('exit', () => {
    if (tracked.get(pid)?.what === what) tracked.delete(pid);
  });
  return child;
}

/** Tracks a process some library started for us (Chromium under playwright), by PID alone. */
export function trackPid(pid: number, what: string): void {
  tracked.set(pid, { pid, what, running: () => pidRunning(pid) });
}

/** No longer needs watching: its owner stopped it. */
export function untrackPid(pid: number): void {
  tracked.delete(pid);
}

/** The PIDs of this process's direct children now (Linux /proc). */
export function childPids(): number[] {
  const out: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid) out.push(Number(e));
    } catch {
      // it exited while we looked
    }
  }
  return out;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

async function waitGone(t: Tracked, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (t.running()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 25));
  }
  return true;
}

/** SIGTERM, SIGKILL after 5 s; then its cleanup. */
async function stopOne(t: Tracked): Promise<void> {
  signal(t.pid, 'SIGTERM');
  if (!(await waitGone(t, 5_000))) {
    signal(t.pid, 'SIGKILL');
    await waitGone(t, 2_000);
  }
  tracked.delete(t.pid);
  try {
    t.cleanup?.();
  } catch {
    // best effort: a temp directory
  }
}

/** Stops every tracked process still running, by PID; says which ones it stopped. */
export async function stopTracked(): Promise<{ pid: number; what: string }[]> {
  const left = [...tracked.values()].filter((t) => t.running());
  for (const t of [...tracked.values()]) if (!t.running()) tracked.delete(t.pid);
  await Promise.all(left.map(stopOne));
  return left.map(({ pid, what }) => ({ pid, what }));
}

/** At exit nothing can be awaited: SIGKILL to every tracked process still running. */
export function killTrackedNow(): void {
  for (const t of tracked.values()) if (t.running()) signal(t.pid, 'SIGKILL');
  for (const t of tracked.values()) {
    try {
      t.cleanup?.();
    } catch {
      // best effort
    }
  }
  tracked.clear();
}

/**
 * For the bench's main process: on SIGINT / SIGTERM stop every tracked process and exit
 * 130 / 143; at exit kill what is left. `note` says what was stopped.
 */
export function stopChildrenOnExit(note: (text: string) => void): void {
  let stopping = false;
  const onSignal = (sig: NodeJS.Signals, code: number) => {
    if (stopping) return;
    stopping = true;
    note(`${sig}: stopping the processes the bench started`);
    void stopTracked().then(
      (stopped) => {
        for (const s of stopped) note(`stopped ${s.what} (pid ${s.pid})`);
        process.exit(code);
      },
      () => process.exit(code),
    );
  };
  process.on('SIGINT', () => onSignal('SIGINT', 130));
  process.on('SIGTERM', () => onSignal('SIGTERM', 143));
  process.on('exit', killTrackedNow);
}
