/**
 * How errors leave the GraphQL API (HTTP and WebSocket alike): intended errors keep their message
 * and carry a code of the registry (shared/src/errors.ts) in `extensions.code`; anything
 * unexpected is masked as "Unexpected error." with code INTERNAL and logged with its details.
 */
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { ErrorCodes, HextwinError, type ErrorCode } from '@hextwin/shared';
import type { Logger } from 'pino';

/** Codes of Apollo and graphql-js for bad requests, mapped to the registry. */
const REQUEST_CODES: Record<string, ErrorCode> = {
  GRAPHQL_PARSE_FAILED: 'BAD_REQUEST',
  GRAPHQL_VALIDATION_FAILED: 'BAD_REQUEST',
  BAD_USER_INPUT: 'BAD_REQUEST',
  OPERATION_RESOLUTION_FAILURE: 'BAD_REQUEST',
  BAD_REQUEST: 'BAD_REQUEST',
  PERSISTED_QUERY_NOT_FOUND: 'BAD_REQUEST',
  PERSISTED_QUERY_NOT_SUPPORTED: 'BAD_REQUEST',
};

const isRegistryCode = (c: unknown): c is ErrorCode => typeof c === 'string' && Object.prototype.hasOwnProperty.call(ErrorCodes, c);

export interface ErrorSink {
  logger: Logger;
  countError(code: string): void;
}

/** The client-facing form of one error. `formatted` is what the library made of it, when it did. */
export function formatError(error: unknown, sink: ErrorSink, formatted?: GraphQLFormattedError): GraphQLFormattedError {
  const gql = error instanceof GraphQLError ? error : undefined;
  const base: GraphQLFormattedError = formatted ?? (gql ? gql.toJSON() : { message: String(error) });
  const where = { ...(base.locations ? { locations: base.locations } : {}), ...(base.path ? { path: base.path } : {}) };
  // the innermost cause: resolver errors and subscription failures come wrapped
  let original: unknown = error;
  while (original instanceof GraphQLError && original.originalError) original = original.originalError;
  if (original instanceof HextwinError) {
    sink.countError(original.code);
    if (original.code === 'INTERNAL') sink.logger.error({ err: original.cause ?? original }, 'GraphQL request failed');
    return { message: original.message, ...where, extensions: { code: original.code, ...(original.details ? { details: original.details } : {}) } };
  }
  const code = (base.extensions?.hextwinCode ?? base.extensions?.code) as unknown;
  if (original instanceof GraphQLError && (code === undefined || isRegistryCode(code) || (typeof code === 'string' && code in REQUEST_CODES))) {
    // graphql-js and Apollo errors about the request itself (syntax, validation, variables)
    const mapped: ErrorCode = isRegistryCode(code) ? code : typeof code === 'string' ? REQUEST_CODES[code]! : 'BAD_REQUEST';
    sink.countError(mapped);
    return { message: base.message, ...where, extensions: { code: mapped } };
  }
  sink.countError('INTERNAL');
  sink.logger.error({ err: original ?? error }, 'GraphQL request failed unexpectedly');
  return { message: ErrorCodes.INTERNAL.message, ...where, extensions: { code: 'INTERNAL' } };
}

/** A coded GraphQL error (for validation rules and hooks that must answer in GraphQL form). */
export function codedGraphQLError(code: ErrorCode, message: string, httpStatus = ErrorCodes[code].status): GraphQLError {
  return new GraphQLError(message, { extensions: { code, hextwinCode: code, http: { status: httpStatus } } });
}
