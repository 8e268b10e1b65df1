/**
 * The progress of a replay in this server (`replayRecording`), for `Query.simulation`: a replay is
 * a simulation of the recorded hours, so the status reads like one: the recorded time reached,
 * the twins the recording feeds, how much of it has gone in.
 */
import type { RecordedMessage } from './replay.js';

export interface ReplayStatus {
  name: string;
  running: boolean;
  /** 0 as fast as the server takes them */
  speed: number;
  messages: number;
  sent: number;
  refused: number;
  /** batches handed to the engine */
  batches: number;
  /** distinct twins (model and id) in the recording */
  twins: number;
  /** arrival time of the first and last recorded message */
  from: number | null;
  to: number | null;
  /** arrival time of the last message played (the replay's simulated time) */
  recordedTime: number | null;
  /** 0..1 of the messages */
  progress: number;
  /** wall time (epoch ms) the replay started and ended */
  startedAt: number;
  endedAt: number | null;
}

export class ReplayProgress {
  private readonly s: ReplayStatus;
  private readonly wallStart = performance.now();
  private wallEnd = 0;

  constructor(name: string, messages: readonly RecordedMessage[], speed: number) {
    const twins = new Set(messages.map((m) => `${m.model}\u0000${m.id}`));
    this.s = {
      name,
      running: true,
      speed,
      messages: messages.length,
      sent: 0,
      refused: 0,
      batches: 0,
      twins: twins.size,
      from: messages[0]?.at ?? null,
      to: messages.at(-1)?.at ?? null,
      recordedTime: messages[0]?.at ?? null,
      progress: messages.length === 0 ? 1 : 0,
      startedAt: Date.now(),
      endedAt: null,
    };
  }

  /** A batch went in (or was refused); `at` is the arrival time of its last message. */
  batch(count: number, refused: boolean, at: number): void {
    const s = this.s;
    s.batches++;
    if (refused) s.refused += count;
    else s.sent += count;
    s.recordedTime = at;
    s.progress = s.messages === 0 ? 1 : (s.sent + s.refused) / s.messages;
  }

  finish(): void {
    if (!this.s.running) return;
    this.s.running = false;
    this.s.endedAt = Date.now();
    this.wallEnd = performance.now();
  }

  get status(): Readonly<ReplayStatus> {
    return this.s;
  }

  /** wall ms the replay has run (until it ended) */
  get wallMs(): number {
    return (this.wallEnd || performance.now()) - this.wallStart;
  }
}
