/**
 * The WebSocket ingest protocol at /ingest: one typed union of frames, a validator that throws
 * readable errors, and parse/stringify. Documented in PROTOCOL.md beside this file.
 *
 * A frame is one JSON text message. Every data frame carries a frame id `fid` chosen by the
 * client (unique per connection session); the server answers `ack` with the same fid once the
 * frame's messages are durable, or `error` with the fid and a code. Re-sending a frame with a fid
 * already acknowledged in this session is answered `ack` again without applying it twice.
 */
import type { JsonValue } from './json.js';
import type { ErrorCode } from './errors.js';

export const FrameType = {
  Hello: 'hello',
  Message: 'msg',
  Batch: 'batch',
  CommandAck: 'cmd-ack',
  Ping: 'ping',
  Welcome: 'welcome',
  Ack: 'ack',
  Error: 'error',
  Command: 'command',
  Throttle: 'throttle',
  Pong: 'pong',
} as const;

export type FrameId = string | number;

export interface WireEnvelope {
  model: string;
  id: string;
  message: JsonValue;
}

// ---- client to server

/** Optional first frame: authenticate and/or resume an earlier session (for fid de-duplication). */
export interface HelloFrame {
  type: 'hello';
  key?: string;
  session?: string;
}
export interface MessageFrame {
  type: 'msg';
  fid: FrameId;
  model: string;
  id: string;
  message: JsonValue;
}
export interface BatchFrame {
  type: 'batch';
  fid: FrameId;
  items: WireEnvelope[];
}
/** The device confirms it received commands (they leave the pull queue). */
export interface CommandAckFrame {
  type: 'cmd-ack';
  cids: string[];
}
export interface PingFrame {
  type: 'ping';
}
export type ClientFrame = HelloFrame | MessageFrame | BatchFrame | CommandAckFrame | PingFrame;

// ---- server to client

export interface WelcomeFrame {
  type: 'welcome';
  session: string;
  /** true when the hello named a session the server still knew: re-sent fids are recognised */
  resumed?: boolean;
  /** the server's limits, so clients can size their batches */
  maxFrameBytes: number;
  maxBatch: number;
  /** the server pings this often; a connection that does not answer within one interval is dropped */
  heartbeatMs?: number;
}
export interface AckFrame {
  type: 'ack';
  fid: FrameId;
  accepted: number;
}
export interface ErrorFrame {
  type: 'error';
  fid?: FrameId;
  code: ErrorCode;
  message: string;
}
export interface CommandFrame {
  type: 'command';
  cid: string;
  model: string;
  id: string;
  command: JsonValue;
}
export interface ThrottleFrame {
  type: 'throttle';
  retryAfterMs: number;
}
export interface PongFrame {
  type: 'pong';
}
export type ServerFrame = WelcomeFrame | AckFrame | ErrorFrame | CommandFrame | ThrottleFrame | PongFrame;

/** WebSocket close codes used by the server. */
export const CloseCode = {
  Normal: 1000,
  GoingAway: 1001,
  ProtocolError: 1002,
  TooBig: 1009,
  Unauthorized: 4401,
  Forbidden: 4403,
  RateLimited: 4429,
} as const;

export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
}

function typeName(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

function expectString(obj: Record<string, unknown>, key: string, where = ''): string {
  const v = obj[key];
  if (typeof v !== 'string') throw new ProtocolError(`expected '${where}${key}' to be a string, got ${typeName(v)}`);
  return v;
}

/** Longest string fid: a session remembers its recent fids, so their size is bounded. */
export const MAX_FID_LENGTH = 128;

function expectFid(obj: Record<string, unknown>): void {
  const v = obj.fid;
  if (!(typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v)))) {
    throw new ProtocolError(`expected 'fid' to be a string or number, got ${typeName(v)}`);
  }
  if (typeof v === 'string' && v.length > MAX_FID_LENGTH) throw new ProtocolError(`expected 'fid' to be at most ${MAX_FID_LENGTH} characters, got ${v.length}`);
}

function expectEnvelope(v: unknown, where: string): void {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ProtocolError(`expected '${where}' to be an object, got ${typeName(v)}`);
  const o = v as Record<string, unknown>;
  expectString(o, 'model', where + '.');
  expectString(o, 'id', where + '.');
  if (!('message' in o)) throw new ProtocolError(`expected '${where}.message' to be present`);
}

/** Validate a parsed client frame; throws ProtocolError with a readable reason. */
export function validateClientFrame(val: unknown): ClientFrame {
  if (typeof val !== 'object' || val === null || Array.isArray(val)) throw new ProtocolError(`expected a frame object, got ${typeName(val)}`);
  const f = val as Record<string, unknown>;
  switch (f.type) {
    case 'hello':
      if (f.key !== undefined) expectString(f, 'key');
      if (f.session !== undefined) expectString(f, 'session');
      return f as unknown as HelloFrame;
    case 'msg':
      expectFid(f);
      expectEnvelope(f, 'frame');
      return f as unknown as MessageFrame;
    case 'batch': {
      expectFid(f);
      if (!Array.isArray(f.items)) throw new ProtocolError(`expected 'items' to be an array, got ${typeName(f.items)}`);
      f.items.forEach((it, i) => expectEnvelope(it, `items[${i}]`));
      return f as unknown as BatchFrame;
    }
    case 'cmd-ack':
      if (!Array.isArray(f.cids) || !f.cids.every((c) => typeof c === 'string')) throw new ProtocolError(`expected 'cids' to be an array of strings`);
      return f as unknown as CommandAckFrame;
    case 'ping':
      return { type: 'ping' };
    default:
      throw new ProtocolError(`unknown frame type ${JSON.stringify(f.type)}`);
  }
}

export function parseClientFrame(data: string): ClientFrame {
  let val: unknown;
  try {
    val = JSON.parse(data);
  } catch {
    throw new ProtocolError('frame is not valid JSON');
  }
  return validateClientFrame(val);
}

export function parseServerFrame(data: string): ServerFrame {
  const val = JSON.parse(data) as ServerFrame;
  if (typeof val !== 'object' || val === null || typeof (val as { type?: unknown }).type !== 'string') throw new ProtocolError('expected a server frame');
  return val;
}

export function stringifyFrame(frame: ClientFrame | ServerFrame): string {
  return JSON.stringify(frame);
}

/** MQTT topics of the contract. */
export const MqttTopics = {
  telemetry: (model: string, id: string) => `hextwin/${model}/${id}/telemetry`,
  commands: (model: string, id: string) => `hextwin/${model}/${id}/commands`,
  /** where the server reports a refused telemetry message: `{"error": {"code", "message"}}` */
  errors: (model: string, id: string) => `hextwin/${model}/${id}/errors`,
  telemetrySubscription: 'hextwin/+/+/telemetry',
} as const;

/** The model and twin id of a `hextwin/{model}/{id}/telemetry` topic, or undefined for any other topic. */
export function parseTelemetryTopic(topic: string): { model: string; id: string } | undefined {
  const parts = topic.split('/');
  if (parts.length !== 4 || parts[0] !== 'hextwin' || parts[3] !== 'telemetry' || !parts[1] || !parts[2]) return undefined;
  return { model: parts[1], id: parts[2] };
}
