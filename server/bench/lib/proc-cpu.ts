/** CPU time of other processes, from Linux /proc: what a server spent on the load a figure gave it. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let ticksPerSecond: number | undefined;
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** User and system CPU seconds a process has used so far, all its threads together (fields 14 and 15 of /proc/PID/stat). */
export function cpuTimes(pid: number): { user: number; system: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // the command name may hold spaces: fields are counted from after its closing parenthesis
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]) / clockTicks(), system: Number(fields[12]) / clockTicks() };
}

/** User + system CPU seconds a process has used so far. */
export function cpuSeconds(pid: number): number {
  const t = cpuTimes(pid);
  return t.user + t.system;
}

/** CPU seconds the processes `pids` spent, each (user + system, and the system part), while `work` ran. */
export async function cpuDuring<T>(pids: number[], work: () => Promise<T>): Promise<{ result: T; cpu: number[]; system: number[] }> {
  const before = pids.map(cpuTimes);
  const result = await work();
  const after = pids.map(cpuTimes);
  return {
    result,
    cpu: after.map((a, i) => a.user + a.system - before[i]!.user - before[i]!.system),
    system: after.map((a, i) => a.system - before[i]!.system),
  };
}

/** µs of CPU per message, from CPU seconds and a count. */
export const microsPer = (cpuSec: number, messages: number) => (messages > 0 ? (cpuSec * 1e6) / messages : NaN);
