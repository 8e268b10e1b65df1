/** How a failed GraphQL call is told apart: network, authentication, or a coded server error. */

export const FailureKind = {
  Network: 'network',
  Unauthenticated: 'unauthenticated',
  Forbidden: 'forbidden',
  Server: 'server',
} as const;
export type FailureKind = (typeof FailureKind)[keyof typeof FailureKind];

/** A GraphQL request or subscription that failed; `code` is the server's `extensions.code` when it sent one. */
export class RequestError extends Error {
  override readonly name = 'RequestError';
  readonly kind: FailureKind;
  readonly code: string | undefined;

  constructor(kind: FailureKind, message: string, code?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = kind;
    this.code = code;
  }
}

interface FormattedError {
  message?: unknown;
  extensions?: { code?: unknown };
}

/** The error of a GraphQL response's `errors` list, classified by its code. */
export function fromGraphQLErrors(errors: readonly FormattedError[]): RequestError {
  const first = errors[0] ?? {};
  const code = typeof first.extensions?.code === 'string' ? first.extensions.code : undefined;
  const message = typeof first.message === 'string' ? first.message : 'The server answered with an error.';
  return new RequestError(kindOfCode(code), message, code);
}

export function kindOfCode(code: string | undefined): FailureKind {
  if (code === 'UNAUTHENTICATED') return FailureKind.Unauthenticated;
  if (code === 'FORBIDDEN') return FailureKind.Forbidden;
  return FailureKind.Server;
}

/** graphql-ws close codes that mean "your key is missing or wrong": retrying will not help. */
export function isAuthClose(code: number, reason: string): boolean {
  return code === 4401 || code === 4403 || /unauthenticated|unauthorized|forbidden/i.test(reason);
}
