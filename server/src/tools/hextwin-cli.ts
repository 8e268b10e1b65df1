/**
 * `pnpm hextwin check | repair`: the store tools, on the DATA_DIR the server would use (same
 * environment, same config). Progress goes to stderr as pino lines, the summary to stdout as JSON.
 *
 * Exit codes: 0 the store is sound (after repair: again sound); 1 damage found (check) or left
 * (repair); 2 the tool could not run (usage, configuration, no store, a server holds the store).
 */
import { isHextwinError } from '@hextwin/shared';
import pino from 'pino';
import { loadConfig } from '../config.js';
import { checkDataDir } from './store-check.js';
import { repairDataDir } from './store-repair.js';

const USAGE = `usage: pnpm hextwin <command>

  check    read every record of DATA_DIR's store (read-only, safe while a server runs) and report
           what the server could not read; exit 1 when something is wrong
  repair   with the server stopped: move unreadable records into DATA_DIR/quarantine-<time>/
           (bytes and a manifest), so the server starts without them

Environment: DATA_DIR (default ./data) and the server's other variables.
`;

/** Pretty JSON, with each database's `{ records, bad }` and each bad record kept on one line. */
function print(summary: object): void {
  const text = JSON.stringify(summary, null, 2).replace(
    /\{\n\s*("(?:records|db)"[^{}[\]]*?)\n\s*\}/g,
    (_m, body: string) => `{ ${body.replace(/\n\s*/g, ' ')} }`,
  );
  process.stdout.write(text + '\n');
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if ((command !== 'check' && command !== 'repair') || rest.length) {
    process.stderr.write(`hextwin: ${command ? `unknown command or argument: ${[command, ...rest].join(' ')}` : 'a command is required'}\n\n${USAGE}`);
    return 2;
  }
  const config = loadConfig();
  const log = pino({ name: `hextwin ${command}`, level: config.logLevel }, pino.destination(2));
  if (command === 'check') {
    const { report } = await checkDataDir(config.dataDir);
    print(report);
    if (report.heldBy.length) log.info({ pids: report.heldBy }, 'a running process has the store open: this is a snapshot');
    if (report.store !== 'ok') return report.store === 'missing' ? 2 : 1;
    if (!report.ok) log.error({ bad: report.badTotal }, 'the store holds records the server cannot read: stop the server and run `pnpm hextwin repair`');
    return report.ok ? 0 : 1;
  }
  const result = await repairDataDir(config.dataDir, log);
  print(result);
  if (result.after.store === 'missing') return 2;
  if (!result.ok)
    log.error({ store: result.after.store, error: result.after.error }, 'damage is left that repair cannot move aside (restore DATA_DIR from a backup)');
  else if (result.moved.length) log.info({ moved: result.moved.length, dir: result.quarantineDir }, 'repaired: the server can start');
  return result.ok ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(isHextwinError(e) ? `hextwin: ${e.code}: ${e.message}\n` : `hextwin: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exit(2);
  },
);
