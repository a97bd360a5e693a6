// Domain errors that services throw; the GraphQL layer turns them into stable error codes.
import { isConnectionError } from '../db/outage.js';
export class DomainError extends Error {
  constructor(message: string, readonly code: string) {
    super(message);
    this.name = 'DomainError';
  }
}

export class NotFoundError extends DomainError {
  constructor(what: string, id: string) {
    super(`${what} ${id} not found`, 'NOT_FOUND');
  }
}

export class BadInputError extends DomainError {
  constructor(message: string) {
    super(message, 'BAD_USER_INPUT');
  }
}

export class ConflictError extends DomainError {
  constructor(message: string) {
    super(message, 'CONFLICT');
  }
}

/** Whether a request failed because the database is unreachable (down, restarting): the caller may retry. */
export const isDatabaseUnavailable = (err: unknown): boolean => isConnectionError(err);
