/** The command line of `pnpm simulate`, parsed into checked options. */
import { parseArgs } from 'node:util';
import { SCENARIOS } from './scenarios/index.js';
import type { SimulatedModel, WorldSize } from './world.js';
import { DEMO_SIZE, MODELS, isSimulatedModel } from './world.js';

export const USAGE = `Usage: pnpm simulate [options]

Feeds simulated devices of the sample models to a hextwin server through its real connectors.

  --target URL        server to feed (default http://127.0.0.1:4000)
  --transport ws|rest WebSocket /ingest (default) or REST POST /api/v1/messages/{model}/{id}
  --model NAME|all    one of ${MODELS.join(', ')}, or all (default)
  --count N           devices of that model (default: the demo's size)
  --rate N            messages per second (default 5000)
  --speed X           simulated seconds per real second (default 1; 60 = a minute a second)
  --start TIME        event time of the first message, ISO 8601 or epoch ms (default now)
  --seed S            same seed, same messages (default 1)
  --duration SECONDS  stop after this long (default: run until Ctrl-C)
  --messages N        stop after this many messages
  --batch N           messages per frame (default 100)
  --window N          frames awaiting their ack before pausing (default 32)
  --key KEY           API key (default: $HEXTWIN_KEY)
  --scenario NAME     trigger a scenario (repeatable): ${SCENARIOS.map((s) => s.name).join(', ')}
  --scenario-at N     trigger the scenarios after N messages (default: once the devices are set up)
  --print             write the messages to stdout as NDJSON instead of sending them
  --serve             run a dedicated server here instead (PORT, DATA_DIR, MODELS_DIR from the
                      environment) whose engine runs on the simulation clock at --speed (a number,
                      or max: as fast as the steps allow), with the simulation models of
                      server/src/simulator/samples and MODELS_DIR; progress on stderr
  --sim-models LIST   --serve: the simulation models to run, comma-separated (default all)
  --sim-duration S    --serve: end after S simulated seconds, then exit (default: run until Ctrl-C)
  --list-scenarios    list the scenarios and exit
  --help              show this help
`;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface CliOptions {
  target: URL;
  transport: 'ws' | 'rest';
  size: Partial<WorldSize>;
  rate: number;
  speed: number;
  start: number;
  seed: string;
  durationMs: number | undefined;
  maxMessages: number | undefined;
  batch: number;
  window: number;
  key: string | undefined;
  scenarios: { name: string; atMessage?: number }[];
  print: boolean;
  /** --serve: a dedicated server running the simulation models; speed Infinity is `max` */
  serve: { simModels: string[] | undefined; simDurationMs: number | undefined } | undefined;
  listScenarios: boolean;
  help: boolean;
}

function positive(name: string, raw: string | undefined, def: number, integer = true): number {
  if (raw === undefined) return def;
  const v = Number(raw);
  if (!Number.isFinite(v) || v <= 0 || (integer && !Number.isInteger(v)))
    throw new UsageError(`--${name} must be a ${integer ? 'whole ' : ''}number above 0, got ${JSON.stringify(raw)}`);
  return v;
}

export function parseCliArgs(argv: string[], env: Record<string, string | undefined> = {}, now = Date.now()): CliOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        target: { type: 'string' },
        transport: { type: 'string' },
        model: { type: 'string' },
        count: { type: 'string' },
        rate: { type: 'string' },
        speed: { type: 'string' },
        start: { type: 'string' },
        seed: { type: 'string' },
        duration: { type: 'string' },
        messages: { type: 'string' },
        batch: { type: 'string' },
        window: { type: 'string' },
        key: { type: 'string' },
        scenario: { type: 'string', multiple: true },
        'scenario-at': { type: 'string' },
        print: { type: 'boolean' },
        serve: { type: 'boolean' },
        'sim-models': { type: 'string' },
        'sim-duration': { type: 'string' },
        'list-scenarios': { type: 'boolean' },
        help: { type: 'boolean' },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const v = parsed.values;
  let target: URL;
  try {
    target = new URL(v.target ?? 'http://127.0.0.1:4000');
  } catch {
    throw new UsageError(`--target must be a URL such as http://127.0.0.1:4000, got ${JSON.stringify(v.target)}`);
  }
  if (!['http:', 'https:'].includes(target.protocol)) throw new UsageError(`--target must be an http(s) URL, got ${target.protocol}`);
  const transport = v.transport ?? 'ws';
  if (transport !== 'ws' && transport !== 'rest') throw new UsageError(`--transport must be ws or rest, got ${JSON.stringify(transport)}`);

  const model = v.model ?? 'all';
  let size: Partial<WorldSize>;
  if (model === 'all') {
    if (v.count !== undefined) throw new UsageError('--count needs a single --model');
    size = { ...DEMO_SIZE };
  } else if (isSimulatedModel(model)) {
    size = { [model]: positive('count', v.count, DEMO_SIZE[model as SimulatedModel]) };
  } else {
    throw new UsageError(`--model must be one of ${MODELS.join(', ')} or all, got ${JSON.stringify(model)}`);
  }

  let start = now;
  if (v.start !== undefined) {
    start = /^\d+$/.test(v.start) ? Number(v.start) : Date.parse(v.start);
    if (!Number.isFinite(start)) throw new UsageError(`--start must be an ISO 8601 time or epoch ms, got ${JSON.stringify(v.start)}`);
  }
  const names = v.scenario ?? [];
  for (const name of names) {
    if (!SCENARIOS.some((s) => s.name === name))
      throw new UsageError(`--scenario must be one of ${SCENARIOS.map((s) => s.name).join(', ')}, got ${JSON.stringify(name)}`);
  }
  const at = v['scenario-at'] === undefined ? undefined : positive('scenario-at', v['scenario-at'], 0);
  if (!v.serve && (v['sim-models'] !== undefined || v['sim-duration'] !== undefined)) throw new UsageError('--sim-models and --sim-duration need --serve');
  const simDurationS = v['sim-duration'] === undefined ? undefined : positive('sim-duration', v['sim-duration'], 0, false);
  const serve = v.serve
    ? {
        simModels: v['sim-models']
          ?.split(',')
          .map((m) => m.trim())
          .filter(Boolean),
        simDurationMs: simDurationS === undefined ? undefined : simDurationS * 1000,
      }
    : undefined;
  const durationS = v.duration === undefined ? undefined : positive('duration', v.duration, 0, false);

  return {
    target,
    transport,
    size,
    rate: positive('rate', v.rate, 5000, false),
    speed: serve && v.speed === 'max' ? Infinity : positive('speed', v.speed, 1, false),
    start,
    seed: v.seed ?? '1',
    durationMs: durationS === undefined ? undefined : durationS * 1000,
    maxMessages: v.messages === undefined ? undefined : positive('messages', v.messages, 0),
    batch: positive('batch', v.batch, 100),
    window: positive('window', v.window, 32),
    key: v.key ?? env.HEXTWIN_KEY,
    scenarios: names.map((name) => (at === undefined ? { name } : { name, atMessage: at })),
    print: v.print ?? false,
    serve,
    listScenarios: v['list-scenarios'] ?? false,
    help: v.help ?? false,
  };
}

/** ws://host:port/ingest for an http://host:port target. */
export function ingestUrl(target: URL): string {
  const u = new URL(target.href);
  u.protocol = target.protocol === 'https:' ? 'wss:' : 'ws:';
  u.pathname = `${u.pathname.replace(/\/$/, '')}/ingest`;
  u.search = '';
  return u.href;
}
