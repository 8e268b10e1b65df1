/**
 * NDJSON sink: one JSON event per line appended to `{dir}/{file}.ndjson`, synced to disk before a
 * batch counts as delivered. The file is rotated — renamed to `{file}-{UTC time}.ndjson` — when it
 * would pass `maxBytes` or is older than `maxAgeMs`; with `keepFiles` > 0 the oldest rotated files
 * beyond that many are deleted.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { SinkEvent } from './events.js';
import type { NdjsonSinkConfig } from './config.js';
import type { Sink } from './sink.js';

export class NdjsonSink implements Sink {
  readonly name: string;
  private fh: fs.FileHandle | null = null;
  private size = 0;
  private openedAt = 0;
  private rotations = 0;

  constructor(
    private readonly cfg: NdjsonSinkConfig,
    private readonly now: () => number = Date.now,
  ) {
    this.name = cfg.name;
  }

  private get current(): string {
    return path.join(this.cfg.dir, `${this.cfg.file}.ndjson`);
  }

  async open(): Promise<void> {
    if (this.fh) return;
    await fs.mkdir(this.cfg.dir, { recursive: true });
    this.fh = await fs.open(this.current, 'a');
    const st = await this.fh.stat();
    this.size = st.size;
    // a file left by an earlier run is as old as its first write
    this.openedAt = st.size > 0 ? Math.min(st.birthtimeMs || st.mtimeMs, this.now()) : this.now();
  }

  async deliver(batch: readonly SinkEvent[]): Promise<void> {
    if (!this.fh) await this.open();
    let text = '';
    for (const e of batch) text += JSON.stringify(e) + '\n';
    const bytes = Buffer.byteLength(text);
    if (this.size > 0 && (this.size + bytes > this.cfg.maxBytes || this.now() - this.openedAt >= this.cfg.maxAgeMs)) await this.rotate();
    await this.fh!.write(text);
    await this.fh!.datasync();
    this.size += bytes;
  }

  private async rotate(): Promise<void> {
    await this.fh!.close();
    this.fh = null;
    const stamp = new Date(this.now()).toISOString().replace(/[:.]/g, '-');
    await fs.rename(this.current, path.join(this.cfg.dir, `${this.cfg.file}-${stamp}-${String(this.rotations++).padStart(4, '0')}.ndjson`));
    if (this.cfg.keepFiles > 0) {
      const rotated = (await fs.readdir(this.cfg.dir)).filter((f) => f.startsWith(`${this.cfg.file}-`) && f.endsWith('.ndjson')).sort();
      for (const f of rotated.slice(0, Math.max(0, rotated.length - this.cfg.keepFiles))) await fs.rm(path.join(this.cfg.dir, f), { force: true });
    }
    this.fh = await fs.open(this.current, 'a');
    this.size = 0;
    this.openedAt = this.now();
  }

  async close(): Promise<void> {
    const fh = this.fh;
    this.fh = null;
    await fh?.close();
  }
}
