/** A benchmark worker: a script run in a Node process of its own that prints one JSON object on its last stdout line. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { trackChild } from './children.js';

const serverDir = fileURLToPath(new URL('../..', import.meta.url));

/** Runs `script` (a URL or path) with `args` under tsx; resolves its JSON result, rejects when it exits non-zero. */
export function runWorker<T>(script: URL | string, args: string[], env: Record<string, string> = {}): Promise<T> {
  const file = script instanceof URL ? fileURLToPath(script) : script;
  const name = file.slice(file.lastIndexOf('/') + 1);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--max-semi-space-size=64', '--import', 'tsx', file, ...args], {
      cwd: serverDir,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    trackChild(child, `worker ${name}`);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code, sig) => {
      if (code !== 0) return reject(new Error(`${name} exited with ${code ?? sig}`));
      try {
        resolve(JSON.parse(out.trim().split('\n').pop()!) as T);
      } catch (e) {
        reject(new Error(`${name} printed no JSON result: ${(e as Error).message}`));
      }
    });
  });
}
