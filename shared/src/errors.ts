/**
 * The one registry of coded errors. The same code reaches a REST caller (JSON body + HTTP status),
 * a WebSocket frame, an MQTT device log and a GraphQL `extensions.code`.
 * Keep docs/ERRORS.md in step: a test compares them.
 */
export const ErrorCodes = {
  BAD_REQUEST: { status: 400, message: 'The request is malformed.' },
  INVALID_JSON: { status: 400, message: 'The body is not valid JSON.' },
  INVALID_MESSAGE: { status: 400, message: 'A message does not match its model.' },
  INVALID_FRAME: { status: 400, message: 'The frame does not follow the ingest protocol.' },
  INVALID_ID: { status: 400, message: 'A model name or twin id is not valid.' },
  UNKNOWN_MODEL: { status: 404, message: 'No model has that name.' },
  TWIN_NOT_FOUND: { status: 404, message: 'No twin has that model and id.' },
  NOT_FOUND: { status: 404, message: 'Nothing is served at that path.' },
  METHOD_NOT_ALLOWED: { status: 405, message: 'That method is not allowed here.' },
  UNAUTHENTICATED: { status: 401, message: 'A valid API key is required.' },
  FORBIDDEN: { status: 403, message: 'The API key may not do that.' },
  ORIGIN_NOT_ALLOWED: { status: 403, message: 'The Host or Origin of the request is not allowed (ALLOWED_HOSTS, ALLOWED_ORIGINS).' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'The body must be sent as application/json.' },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'The body or frame is larger than allowed.' },
  TOO_MANY_MESSAGES: { status: 413, message: 'Too many messages in one request.' },
  RATE_LIMITED: { status: 429, message: 'Too many requests; retry later.' },
  OVERLOADED: { status: 429, message: 'The engine is at capacity; retry later.' },
  TOO_MANY_CONNECTIONS: { status: 429, message: 'Too many open connections for this API key or in total.' },
  MESSAGE_LOOP: { status: 400, message: 'Twin-to-twin messages went too many hops.' },
  TIMER_LIMIT: { status: 400, message: 'A twin has too many timers.' },
  MODEL_ERROR: { status: 500, message: 'The model threw while processing.' },
  MODEL_TIMEOUT: { status: 500, message: 'The model ran past its time budget; the twin is quarantined.' },
  TWIN_QUARANTINED: { status: 409, message: 'The twin is quarantined: its model code is not run until an operator releases it.' },
  TOO_MANY_TWINS: { status: 429, message: 'The limit on twins is reached; no new twin can be created.' },
  INVALID_EFFECT: { status: 500, message: 'A model asked for an effect that cannot be carried out.' },
  MODEL_INVALID: { status: 500, message: 'A model file is not valid (the message names the file and line).' },
  QUERY_TOO_COMPLEX: { status: 400, message: 'The query is too deep or too costly.' },
  INVALID_FILTER: { status: 400, message: 'The filter is not valid.' },
  GEOFENCE_INVALID: { status: 400, message: 'A geofence is not valid (the message names the field).' },
  UNKNOWN_AGGREGATE: { status: 400, message: 'The model declares no aggregate with that name.' },
  TOO_MANY_GROUPS: { status: 400, message: 'The aggregate would return more groups than allowed.' },
  TOO_MANY_SUBSCRIPTIONS: { status: 429, message: 'Too many live subscriptions for this connection or API key.' },
  NOT_READY: { status: 503, message: 'The server is still restoring state.' },
  SHUTTING_DOWN: { status: 503, message: 'The server is shutting down.' },
  STORE_FAILED: { status: 500, message: 'The state store failed to write.' },
  STORE_DAMAGED: { status: 500, message: 'The state store holds a record that cannot be read; run `pnpm hextwin check`.' },
  DATA_DIR_IN_USE: { status: 500, message: 'A running server holds DATA_DIR; stop it first.' },
  CLUSTER_UNAVAILABLE: { status: 503, message: 'The cluster cannot take or answer this right now; retry shortly.' },
  CONFIG_INVALID: { status: 500, message: 'A configuration value is not valid.' },
  NATS_AUTH_FAILED: { status: 500, message: "The NATS server refused this node's credentials." },
  NODE_ID_IN_USE: { status: 500, message: 'Another live node of the cluster has this NODE_ID.' },
  INTERNAL: { status: 500, message: 'Unexpected error.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ErrorCodes;

/** An intended, coded error: safe to show its message to the caller. */
export class HextwinError extends Error {
  override readonly name = 'HextwinError';
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message?: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message ?? ErrorCodes[code].message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = ErrorCodes[code].status;
    this.details = options?.details;
  }

  toJSON(): ErrorBody {
    return { error: { code: this.code, message: this.message, ...(this.details ? { details: this.details } : {}) } };
  }
}

/** The error body every HTTP surface answers with. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: Record<string, unknown> };
}

export function isHextwinError(e: unknown): e is HextwinError {
  return e instanceof HextwinError;
}

/** The coded form of any thrown value: intended errors pass, others become INTERNAL. */
export function toCoded(e: unknown): HextwinError {
  if (e instanceof HextwinError) return e;
  return new HextwinError('INTERNAL', undefined, { cause: e });
}
