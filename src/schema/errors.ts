// Stable error codes for clients: domain errors map to their code; anything unexpected is logged in
// full and reaches the client only as INTERNAL_SERVER_ERROR with an id to find it in the log.
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { randomUUID } from 'node:crypto';
import { unwrapResolverError } from '@apollo/server/errors';
import { DomainError, isDatabaseUnavailable } from '../services/errors.js';
import { logger } from '../logger.js';

const log = logger('graphql');

/** Codes that are safe to show as they are. */
const PUBLIC_CODES = new Set([
  'BAD_USER_INPUT', 'NOT_FOUND', 'UNAUTHENTICATED', 'FORBIDDEN', 'CONFLICT', 'GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST', 'PERSISTED_QUERY_NOT_FOUND', 'PERSISTED_QUERY_NOT_SUPPORTED', 'OPERATION_RESOLUTION_FAILURE', 'QUERY_TOO_LARGE',
  'TOO_MANY_REQUESTS', 'SERVICE_UNAVAILABLE',
]);

/** What a client reads while the database restarts or is down: a condition to retry, not a server bug. */
export const DATABASE_UNAVAILABLE = 'the database is unreachable (down or restarting): retry shortly; /healthz says when it is back';

export function unauthenticated(): GraphQLError {
  return new GraphQLError('this server needs a bearer token for mutations (Authorization: Bearer <LEUKOGRAPH_TOKEN>)', {
    extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } },
  });
}

export function forbidden(): GraphQLError {
  return new GraphQLError('this token may only read; mutations need the read-write token (LEUKOGRAPH_TOKEN)', {
    extensions: { code: 'FORBIDDEN', http: { status: 403 } },
  });
}

export function formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const original = unwrapResolverError(error);
  if (original instanceof DomainError) {
    return { ...formatted, message: original.message, extensions: { code: original.code } };
  }
  const code = formatted.extensions?.code as string | undefined;
  if (code && PUBLIC_CODES.has(code)) {
    // Apollo is told never to add a stack trace; this keeps one from any other path out of responses too.
    const { stacktrace: _drop, ...extensions } = formatted.extensions ?? {};
    return { ...formatted, extensions };
  }
  // type-graphql's argument validation errors are user errors too.
  if (original instanceof Error && original.name === 'ArgumentValidationError') {
    return { ...formatted, extensions: { code: 'BAD_USER_INPUT' } };
  }
  if (isDatabaseUnavailable(original)) {
    log.warn('request failed: database unreachable', { path: formatted.path });
    return { message: DATABASE_UNAVAILABLE, path: formatted.path, extensions: { code: 'SERVICE_UNAVAILABLE' } };
  }
  const errorId = randomUUID();
  log.error('unexpected error', { errorId, err: original instanceof Error ? original : new Error(String(original)), path: formatted.path });
  return { message: 'Internal server error', path: formatted.path, extensions: { code: 'INTERNAL_SERVER_ERROR', errorId } };
}
