import { test } from 'node:test';
import assert from 'node:assert/strict';
import { graphqlData, RemoteError } from './remote.js';

test('graphqlData returns the data, and turns GraphQL errors into RemoteErrors with their code', () => {
  assert.deepEqual(graphqlData('http://h/graphql', 200, '{"data":{"datasets":[]}}'), { datasets: [] });
  assert.throws(() => graphqlData('http://h/graphql', 200, '{"errors":[{"message":"no such dataset","extensions":{"code":"NOT_FOUND"}}]}'), (e: unknown) => e instanceof RemoteError && e.code === 'NOT_FOUND' && /no such dataset/.test(e.message));
});

test('a URL that is not the GraphQL endpoint says so instead of failing on a missing field', () => {
  // What the server's root answers (LEUKOGRAPH_URL=http://127.0.0.1:4100 without /graphql).
  assert.throws(
    () => graphqlData('http://127.0.0.1:4100', 404, '{"error":{"code":"NOT_FOUND","message":"no route POST /"}}'),
    (e: unknown) => e instanceof RemoteError && e.code === 'BAD_RESPONSE' && /HTTP 404/.test(e.message) && /\/graphql/.test(e.message),
  );
  // Not JSON at all (a proxy's HTML page).
  assert.throws(() => graphqlData('http://h/graphql', 502, '<html>bad gateway</html>'), (e: unknown) => e instanceof RemoteError && e.code === 'BAD_RESPONSE' && /HTTP 502/.test(e.message) && !/GraphQL endpoint is/.test(e.message));
});
