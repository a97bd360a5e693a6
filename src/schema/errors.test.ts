// The codes a client reads: a database outage is SERVICE_UNAVAILABLE with words to act on, never the
// masked INTERNAL_SERVER_ERROR that a bug gets (the load suite saw the latter while PostgreSQL restarted).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GraphQLError } from 'graphql';
import { formatError, DATABASE_UNAVAILABLE } from './errors.js';
import { NotFoundError } from '../services/errors.js';

const formatted = (e: Error) => formatError(new GraphQLError(e.message, { originalError: e, path: ['q'] }).toJSON(), new GraphQLError(e.message, { originalError: e, path: ['q'] }));

test('a lost database connection is SERVICE_UNAVAILABLE, with a message that says to retry', () => {
  for (const err of [Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }), new Error('Connection terminated unexpectedly'), Object.assign(new Error('the database system is shutting down'), { code: '57P01' })]) {
    const f = formatted(err);
    assert.equal(f.extensions?.code, 'SERVICE_UNAVAILABLE', err.message);
    assert.equal(f.message, DATABASE_UNAVAILABLE);
    assert.equal(f.extensions?.errorId, undefined);
  }
});

test('other unexpected errors stay masked with an id; domain errors keep their code', () => {
  const bug = formatted(new TypeError('x is undefined'));
  assert.equal(bug.extensions?.code, 'INTERNAL_SERVER_ERROR');
  assert.equal(bug.message, 'Internal server error');
  assert.match(String(bug.extensions?.errorId), /^[0-9a-f-]{36}$/);
  assert.equal(formatted(new NotFoundError('job', '1')).extensions?.code, 'NOT_FOUND');
});
