// The S3 store against a real S3-protocol server: s3rver from npm (test/helpers/s3-server.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Store } from './s3-store.js';
import { openStore } from './open-store.js';
import { parseS3Url } from './s3-location.js';
import { storeContract } from './store-contract.js';
import { startS3Server, type S3TestServer } from '../../test/helpers/s3-server.js';

let server: S3TestServer | null = null;

storeContract('s3 (s3rver)', async () => {
  server = await startS3Server();
  const dir = mkdtempSync(join(tmpdir(), 'leukograph-store-'));
  const url = server.storageUrl('lab-a/objects');
  const store = await openStore(url, { dataDir: dir, databaseUrl: '' });
  return {
    store, url, dataDir: dir, databaseUrl: '',
    close: async () => {
      await store.close();
      await server?.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}, undefined, { atomicConcurrentPuts: false }); // s3rver writes PUTs in place (store-contract.ts); S3 itself does not

test('s3 URL: bucket, prefix, endpoint; path-style with an endpoint', () => {
  assert.deepEqual(parseS3Url('s3://lab-data/leukograph/prod?endpoint=http://10.0.0.5:9000&region=eu-central-1'), {
    bucket: 'lab-data', prefix: 'leukograph/prod/', endpoint: 'http://10.0.0.5:9000', region: 'eu-central-1', forcePathStyle: true,
  });
  const aws = parseS3Url('s3://lab-data');
  assert.equal(aws.prefix, '');
  assert.equal(aws.endpoint, null);
  assert.equal(aws.forcePathStyle, false);
  assert.equal(new S3Store(aws).location, 's3://lab-data/');
});

test('s3 store: a streamed put past the part size goes up in parts and reads back whole', async () => {
  const s3 = await startS3Server();
  const store = await openStore(s3.storageUrl('multi'), { dataDir: tmpdir(), databaseUrl: '' });
  try {
    const MiB = 1024 * 1024;
    const total = 17;
    async function* body() {
      for (let i = 0; i < total; i++) yield Buffer.alloc(MiB, i);
    }
    assert.deepEqual(await store.put('big/model.lkae', body()), { bytes: total * MiB });
    assert.equal(await store.size('big/model.lkae'), total * MiB);
    const got = await store.get('big/model.lkae', { start: 9 * MiB - 2, end: 9 * MiB + 2 });
    assert.deepEqual([...got], [8, 8, 9, 9]);
  } finally {
    await store.close();
    await s3.close();
  }
});
