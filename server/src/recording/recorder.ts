/**
 * Recording: the messages a model's twins receive from outside (devices, operators), one NDJSON
 * line each, `{"at": <engine time, epoch ms>, "model", "id", "message"}`, in files under
 * DATA_DIR/recordings. Off the hot path: the engine's ingest tap is set only while something is
 * recorded (one null check per batch otherwise); lines are buffered and appended in batches every
 * FLUSH_MS. A recording ends at its `maxBytes` or `maxMs`, or when stopped.
 *
 * The durable log is truncated by checkpoints, so a recording is its own file, kept until deleted.
 */
import { createReadStream } from 'node:fs';
import { appendFile, mkdir, open, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { HextwinError, type RecordSpec } from '@hextwin/shared';
import type { Envelope, SourceRef } from '../engine/types.js';

export const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;
export const DEFAULT_MAX_MS = 60 * 60_000;
const FLUSH_MS = 200;
/** the source connector of replayed messages (replay.ts) */
export const REPLAY_CONNECTOR = 'replay';
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,200}\.ndjson$/;

export interface RecordingInfo {
  name: string;
  model: string;
  sizeBytes: number;
  /** engine time of the first and last recorded message; null when none */
  from: number | null;
  to: number | null;
  active: boolean;
}

/** What the recorder needs of the engine. */
export interface RecorderHost {
  now(): number;
  hasModel(model: string): boolean;
  setIngestTap?(tap: ((envelopes: readonly Envelope[], source: SourceRef | null) => void) | null): void;
}

interface Active {
  name: string;
  model: string;
  file: string;
  startedAt: number;
  maxBytes: number;
  maxMs: number;
  /** bytes written, plus characters buffered (exact once flushed) */
  bytes: number;
  /** `,"model":"…","id":` of every line, encoded once */
  modelPart: string;
  from: number | null;
  to: number | null;
  buffer: string[];
  writing: Promise<void>;
}

export class Recorder {
  private readonly active = new Map<string, Active>();
  /** the last writes of recordings that ended, by name, until they are on disk */
  private readonly ending = new Map<string, Promise<void>>();
  private timer: NodeJS.Timeout | null = null;
  private ready: Promise<unknown> | null = null;

  constructor(
    readonly dir: string,
    private readonly host: RecorderHost,
    private readonly log: Logger,
  ) {}

  /** Start recording a model (the running recording when one is already on). */
  async start(model: string, spec: RecordSpec = {}): Promise<RecordingInfo> {
    if (!this.host.hasModel(model)) throw new HextwinError('UNKNOWN_MODEL', `no model named ${JSON.stringify(model)}`);
    if (!this.host.setIngestTap) throw new HextwinError('BAD_REQUEST', 'this engine cannot record');
    const maxBytes = spec.maxBytes ?? DEFAULT_MAX_BYTES;
    const maxMs = spec.maxMs ?? DEFAULT_MAX_MS;
    if (!(maxBytes > 0) || !(maxMs > 0)) throw new HextwinError('BAD_REQUEST', 'record: maxBytes and maxMs must be > 0');
    const running = this.active.get(model);
    if (running) return this.infoOf(running);
    await (this.ready ??= mkdir(this.dir, { recursive: true }));
    const now = this.host.now();
    const base = `${model}-${new Date(now).toISOString().replace(/[:.]/g, '-')}`;
    let name = `${base}.ndjson`;
    for (let i = 2; await exists(path.join(this.dir, name)); i++) name = `${base}-${i}.ndjson`;
    const a: Active = {
      name,
      model,
      file: path.join(this.dir, name),
      startedAt: now,
      maxBytes,
      maxMs,
      bytes: 0,
      modelPart: `,"model":${JSON.stringify(model)},"id":`,
      from: null,
      to: null,
      buffer: [],
      writing: Promise.resolve(),
    };
    // the file exists from the start, so it is listed and downloadable at once
    a.writing = appendFile(a.file, '');
    await a.writing;
    this.active.set(model, a);
    this.host.setIngestTap(this.tap);
    this.timer ??= setInterval(() => this.tick(), FLUSH_MS).unref();
    this.log.info({ model, name, maxBytes, maxMs }, 'recording started');
    return this.infoOf(a);
  }

  /** Stop a model's recording; everything buffered is on disk when this resolves. Null when none ran. */
  async stop(model: string): Promise<RecordingInfo | null> {
    const a = this.active.get(model);
    if (!a) return null;
    this.finish(a, 'stopped');
    await a.writing;
    return { ...this.infoOf(a), active: false };
  }

  /** Stop every recording and flush (server shutdown). */
  async close(): Promise<void> {
    for (const m of [...this.active.keys()]) await this.stop(m);
    await Promise.all(this.ending.values());
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Every recording in the directory, newest first. */
  async list(): Promise<RecordingInfo[]> {
    await Promise.all(this.ending.values());
    let names: string[];
    try {
      names = (await readdir(this.dir)).filter((n) => NAME.test(n));
    } catch {
      return [];
    }
    const out: RecordingInfo[] = [];
    for (const name of names) {
      const a = [...this.active.values()].find((r) => r.name === name);
      if (a) {
        out.push(this.infoOf(a));
        continue;
      }
      const info = await describe(path.join(this.dir, name));
      if (info) out.push({ name, active: false, ...info });
    }
    return out.sort((x, y) => (y.from ?? 0) - (x.from ?? 0) || (x.name < y.name ? 1 : -1));
  }

  /** The file of a recording; NOT_FOUND for a name that is not one. */
  async file(name: string): Promise<string> {
    const file = path.join(this.dir, name);
    if (!NAME.test(name) || !(await exists(file))) throw new HextwinError('NOT_FOUND', `no recording named ${JSON.stringify(name)}`);
    return file;
  }

  /** The NDJSON of a recording as written so far. */
  async stream(name: string): Promise<Readable> {
    const file = await this.file(name);
    const a = [...this.active.values()].find((r) => r.name === name);
    if (a) {
      this.flush(a);
      await a.writing;
    }
    await this.ending.get(name);
    return createReadStream(file);
  }

  get recording(): number {
    return this.active.size;
  }

  /** The ingest tap: cheap per message, only while a recording runs. */
  private readonly tap = (envelopes: readonly Envelope[], source: SourceRef | null): void => {
    // a replay is not new input: its file is the recording already
    if (source?.connector === REPLAY_CONNECTOR) return;
    const at = this.host.now();
    const head = '{"at":' + at;
    for (const e of envelopes) {
      const a = this.active.get(e.model);
      if (!a) continue;
      if (at - a.startedAt >= a.maxMs) {
        this.finish(a, 'maxMs');
        continue;
      }
      const line = head + a.modelPart + JSON.stringify(e.id) + ',"message":' + JSON.stringify(e.message) + '}\n';
      // characters, not bytes, on the hot path: the flush counts the bytes exactly (UTF-8 may overshoot by one flush)
      const n = line.length;
      if (a.bytes + n > a.maxBytes) {
        this.finish(a, 'maxBytes');
        continue;
      }
      a.bytes += n;
      a.buffer.push(line);
      a.from ??= at;
      a.to = at;
    }
  };

  private tick(): void {
    const now = this.host.now();
    for (const a of this.active.values()) {
      if (now - a.startedAt >= a.maxMs) this.finish(a, 'maxMs');
      else this.flush(a);
    }
  }

  private flush(a: Active): void {
    if (a.buffer.length === 0) return;
    const chunk = Buffer.from(a.buffer.join(''), 'utf8');
    let chars = 0;
    for (const l of a.buffer) chars += l.length;
    a.bytes += chunk.length - chars;
    a.buffer = [];
    a.writing = a.writing.then(
      () => appendFile(a.file, chunk),
      () => appendFile(a.file, chunk),
    );
    a.writing.catch((err: unknown) => this.log.error({ err, name: a.name }, 'recording write failed'));
  }

  private finish(a: Active, why: string): void {
    if (this.active.get(a.model) !== a) return;
    this.flush(a);
    this.active.delete(a.model);
    const done = a.writing.catch(() => {}).finally(() => this.ending.delete(a.name));
    this.ending.set(a.name, done);
    if (this.active.size === 0) this.host.setIngestTap?.(null);
    this.log.info({ model: a.model, name: a.name, bytes: a.bytes, why }, 'recording ended');
  }

  private infoOf(a: Active): RecordingInfo {
    return { name: a.name, model: a.model, sizeBytes: a.bytes, from: a.from, to: a.to, active: this.active.get(a.model) === a };
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}

/** Size, model and time range of a closed recording, from its first and last lines. */
async function describe(file: string): Promise<Omit<RecordingInfo, 'name' | 'active'> | null> {
  const fh = await open(file, 'r');
  try {
    const { size } = await fh.stat();
    const headLen = Math.min(size, 64 * 1024);
    const head = Buffer.alloc(headLen);
    await fh.read(head, 0, headLen, 0);
    const tailLen = Math.min(size, 64 * 1024);
    const tail = Buffer.alloc(tailLen);
    await fh.read(tail, 0, tailLen, size - tailLen);
    const first = parseLine(head.toString('utf8').split('\n')[0]);
    const lines = tail.toString('utf8').split('\n').filter(Boolean);
    const last = parseLine(lines[lines.length - 1]);
    const model = first?.model ?? path.basename(file).replace(/-\d{4}-.*$/, '');
    return { model, sizeBytes: size, from: first?.at ?? null, to: last?.at ?? null };
  } finally {
    await fh.close();
  }
}

function parseLine(line: string | undefined): { at: number; model: string } | undefined {
  if (!line) return undefined;
  try {
    const v = JSON.parse(line) as { at?: unknown; model?: unknown };
    return typeof v.at === 'number' && typeof v.model === 'string' ? { at: v.at, model: v.model } : undefined;
  } catch {
    return undefined;
  }
}
