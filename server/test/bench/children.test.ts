/**
 * Regression: a figure that failed left its child server running. Every child the bench starts is
 * stopped by PID when its figure fails, when the bench is interrupted, and when it exits.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const serverDir = fileURLToPath(new URL('../..', import.meta.url));
const fixtures = fileURLToPath(new URL('./figures-leaving-children', import.meta.url));

const dirs: string[] = [];
const pids: number[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  // a failing run must not leave the machine dirtier than it found it
  for (const pid of pids.splice(0)) if (alive(pid)) process.kill(pid, 'SIGKILL');
});

/** Running, and not a zombie waiting for its parent. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** The bench over the fixture figures named by `only`; resolves the server's PID once the figure says it, and the exit. */
function bench(only: string) {
  const out = mkdtempSync(path.join(tmpdir(), 'hextwin-bench-children-'));
  dirs.push(out);
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--quick', '--figures', fixtures, '--only', only, '--out', out], {
    cwd: serverDir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  const serverPid = new Promise<number>((resolve, reject) => {
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      const m = /server pid (\d+)/.exec(stderr);
      if (m) {
        pids.push(Number(m[1]));
        resolve(Number(m[1]));
      }
    });
    child.once('exit', () => reject(new Error(`the bench exited before the figure started its server:\n${stderr}`)));
  });
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, serverPid, exit, stderr: () => stderr };
}

describe('child processes of the bench', () => {
  it('stops the server a failed figure started, by its PID', async () => {
    const run = bench('fixture.fails-after-start');
    const pid = await run.serverPid;
    expect(await run.exit).toBe(1);
    expect(run.stderr()).toMatch(new RegExp(`stopped .*pid ${pid}`));
    expect(alive(pid)).toBe(false);
  }, 60_000);

  it('stops the servers when the bench is interrupted with SIGINT', async () => {
    const run = bench('fixture.hangs-after-start');
    const pid = await run.serverPid;
    expect(alive(pid)).toBe(true);
    run.child.kill('SIGINT');
    expect(await run.exit).toBe(130);
    expect(alive(pid)).toBe(false);
  }, 60_000);
});
