import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { FileStore } from './file-store.js';
import { openStore, storageKind } from './open-store.js';
import { storeContract } from './store-contract.js';

storeContract('file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'leukograph-store-'));
  const url = pathToFileURL(join(dir, 'objects')).href;
  return { store: await openStore(url, { dataDir: dir, databaseUrl: '' }), url, dataDir: dir, databaseUrl: '', close: async () => rmSync(dir, { recursive: true, force: true }) };
});

test('file store: the default is the data directory, laid out by key as before', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'leukograph-store-'));
  try {
    const store = await openStore(null, { dataDir: dir, databaseUrl: '' });
    assert.ok(store instanceof FileStore);
    await store.put('blobs/ab/abcd.png', 'png bytes');
    assert.deepEqual(readdirSync(join(dir, 'blobs', 'ab')), ['abcd.png']);
    assert.equal((store as FileStore).pathOf('blobs/ab/abcd.png'), join(dir, 'blobs', 'ab', 'abcd.png'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('storage URLs: the three kinds, and clear refusals', () => {
  assert.equal(storageKind(null), 'file');
  assert.equal(storageKind('file:///srv/leukograph'), 'file');
  assert.equal(storageKind('postgres:'), 'postgres');
  assert.equal(storageKind('s3://lab-data/leukograph?endpoint=http://10.0.0.5:9000'), 's3');
  assert.throws(() => storageKind('postgres://u:secret@db/x'), (e: Error) => /write just "postgres:"/.test(e.message) && !e.message.includes('secret'));
  assert.throws(() => storageKind('s3://key:secret@bucket/p'), /must not carry credentials/);
  assert.throws(() => storageKind('s3://B_ad/p'), /invalid S3 bucket name/);
  assert.throws(() => storageKind('s3://bucket/p?endpoitn=x'), /unknown s3:\/\/ URL parameter "endpoitn"/);
  assert.throws(() => storageKind('ftp://x/y'), /expected file:\/\/\/dir, postgres: or s3:/);
});
