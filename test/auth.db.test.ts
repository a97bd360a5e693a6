// With a token configured, mutations (GraphQL and uploads) need it; queries do not.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, type Stack } from './helpers/stack.js';
import { smallPng } from './helpers/synthetic-images.js';
import { checkExposure, loadConfig } from '../src/config.js';

let s: Stack;
before(async () => {
  s = await startStack({ token: 's3cret-token', engine: false });
});
after(async () => s?.close());

const create = `mutation { createDataset(input: { name: "guarded" }) { id } }`;

test('a mutation without the token is refused with UNAUTHENTICATED and writes nothing', async () => {
  const r = await s.gql(create);
  assert.equal(r.errors?.[0].extensions?.code, 'UNAUTHENTICATED');
  const wrong = await s.gql(create, {}, { authorization: 'Bearer nope' });
  assert.equal(wrong.errors?.[0].extensions?.code, 'UNAUTHENTICATED');
  assert.deepEqual((await s.gql('{ datasets { id } }')).data, { datasets: [] });
});

test('the same mutation with the token succeeds; queries need none', async () => {
  const r = await s.gql(create, {}, { authorization: 'Bearer s3cret-token' });
  assert.ok(r.data?.createDataset.id);
  assert.equal((await s.gql('{ datasets { name } }')).data?.datasets[0].name, 'guarded');
  const base = s.url.replace('/graphql', '');
  const up = await fetch(`${base}/upload?datasetId=${r.data!.createDataset.id}&filename=a.png`, { method: 'POST', body: new Uint8Array(await smallPng()) });
  assert.equal(up.status, 401);
});

test('listening beyond loopback without a token is refused at start', () => {
  assert.throws(() => checkExposure(loadConfig({ host: '0.0.0.0', token: null })), /LEUKOGRAPH_TOKEN/);
  assert.doesNotThrow(() => checkExposure(loadConfig({ host: '127.0.0.1', token: null })));
  assert.doesNotThrow(() => checkExposure(loadConfig({ host: '0.0.0.0', token: 'x' })));
});
