// Typed errors: every GraphQL error the server sends carries a stable extensions.code, and each code
// becomes one class, so callers can `catch (e) { if (e instanceof NotFoundError) ... }`.

/** One error as the server formats it (GraphQL response or graphql-ws error message). */
export interface ServerErrorEntry {
  message: string;
  path?: readonly (string | number)[];
  extensions?: Record<string, unknown>;
}

export class LeukographError extends Error {
  /** The server's extensions.code (or NETWORK_ERROR, JOB_FAILED for failures the client sees). */
  readonly code: string;
  /** Where in the response the first error happened, e.g. ['dataset']. */
  readonly path: readonly (string | number)[] | undefined;
  /** Every error of the response; the message is the first one's. */
  readonly errors: readonly ServerErrorEntry[];

  constructor(message: string, code: string, opts: { path?: readonly (string | number)[]; errors?: readonly ServerErrorEntry[]; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    this.path = opts.path;
    this.errors = opts.errors ?? [{ message, path: opts.path, extensions: { code } }];
  }
}

/** BAD_USER_INPUT, or a document the server would not accept (GRAPHQL_VALIDATION_FAILED: the SDK and server disagree on the schema). */
export class BadInputError extends LeukographError {}
/** NOT_FOUND: an id that names nothing. */
export class NotFoundError extends LeukographError {}
/** UNAUTHENTICATED: the server needs a bearer token (LEUKOGRAPH_TOKEN) and none or a wrong one was sent. */
export class UnauthenticatedError extends LeukographError {}
/** CONFLICT: the request contradicts the current state (e.g. cancelling a finished job). */
export class ConflictError extends LeukographError {}
/**
 * INTERNAL_SERVER_ERROR or any code this client does not know; `errors[0].extensions.errorId` finds it in the server log.
 * SERVICE_UNAVAILABLE (the server's database is down or restarting) is one too: `code` tells it apart, and a retry may succeed.
 */
export class ServerError extends LeukographError {}
/** The server could not be reached, or answered something that is not GraphQL (NETWORK_ERROR); or no WebSocket for a subscription (NO_WEBSOCKET). */
export class NetworkError extends LeukographError {}
/** INCOMPATIBLE_SERVER: assertCompatible() found a server whose schema this SDK does not speak (the message says which to use). */
export class IncompatibleServerError extends LeukographError {}
/** A job the client waited on (analyzeImages) ended FAILED or CANCELLED. */
export class JobFailedError extends LeukographError {
  constructor(readonly jobId: string, readonly status: string, reason: string | null) {
    super(`job ${jobId} ${status.toLowerCase()}${reason ? `: ${reason}` : ''}`, 'JOB_FAILED');
  }
}

type ErrorClass = new (message: string, code: string, opts?: { path?: readonly (string | number)[]; errors?: readonly ServerErrorEntry[]; cause?: unknown }) => LeukographError;

const BY_CODE: Record<string, ErrorClass> = {
  BAD_USER_INPUT: BadInputError,
  GRAPHQL_VALIDATION_FAILED: BadInputError,
  GRAPHQL_PARSE_FAILED: BadInputError,
  BAD_REQUEST: BadInputError,
  QUERY_TOO_LARGE: BadInputError,
  NOT_FOUND: NotFoundError,
  UNAUTHENTICATED: UnauthenticatedError,
  FORBIDDEN: UnauthenticatedError,
  CONFLICT: ConflictError,
  INTERNAL_SERVER_ERROR: ServerError,
  SERVICE_UNAVAILABLE: ServerError,
};

/** The typed error for a list of server errors (the first one decides the class). */
export function errorFromServer(errors: readonly ServerErrorEntry[]): LeukographError {
  const first = errors[0] ?? { message: 'unknown error' };
  const code = typeof first.extensions?.code === 'string' ? first.extensions.code : 'INTERNAL_SERVER_ERROR';
  const Class = BY_CODE[code] ?? ServerError;
  return new Class(first.message, code, { path: first.path, errors });
}

/** graphql-ws rejects with an array of errors, a CloseEvent, an Error or anything else. */
export function errorFromSubscription(err: unknown): LeukographError {
  if (err instanceof LeukographError) return err;
  if (Array.isArray(err) && err.every((e) => typeof e?.message === 'string')) return errorFromServer(err as ServerErrorEntry[]);
  if (err && typeof err === 'object' && 'code' in err && 'reason' in err) {
    const { code, reason } = err as { code: number; reason: string };
    // 4403: the server refused the token in connectionParams (or its absence).
    if (code === 4403) return new UnauthenticatedError(`subscription refused: the server needs a valid bearer token (${code}${reason ? `: ${reason}` : ''})`, 'UNAUTHENTICATED', { cause: err });
    return new NetworkError(`subscription connection closed (${code}${reason ? `: ${reason}` : ''})`, 'NETWORK_ERROR', { cause: err });
  }
  const message = err instanceof Error ? err.message : String((err as { message?: unknown })?.message ?? err);
  return new NetworkError(`subscription connection failed: ${message}`, 'NETWORK_ERROR', { cause: err });
}
