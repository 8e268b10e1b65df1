/** A sender that writes the messages as NDJSON (`{"model","id","message"}` a line) instead of sending them. */
import type { Writable } from 'node:stream';
import type { WireEnvelope } from './fleet.js';
import type { DeviceCommand, Sender } from './sender.js';
import { emptyStats } from './sender.js';

export class PrintSender implements Sender {
  readonly stats = emptyStats();

  constructor(private readonly out: Writable) {}

  onCommand(_listener: (c: DeviceCommand) => void): void {
    // nothing answers a printed message
  }

  async send(batch: WireEnvelope[]): Promise<void> {
    const text = batch.map((e) => JSON.stringify(e)).join('\n') + '\n';
    this.stats.sent += batch.length;
    this.stats.acked += batch.length;
    // respect the stream's back-pressure, like a socket's
    if (!this.out.write(text)) await new Promise<void>((resolve) => this.out.once('drain', () => resolve()));
  }

  async flush(): Promise<boolean> {
    return true;
  }

  async close(): Promise<void> {}
}
