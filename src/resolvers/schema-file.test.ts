import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { schemaSdl } from './emit-schema.js';

test('client-sdk/schema.graphql is the schema the server serves (run `npm run schema` after changing it)', async () => {
  const committed = readFileSync(fileURLToPath(new URL('../../../client-sdk/schema.graphql', import.meta.url)), 'utf8');
  assert.equal(committed, await schemaSdl(), 'client-sdk/schema.graphql is stale: run `npm run build && npm run schema` and regenerate the SDK');
});
