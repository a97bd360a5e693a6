// The adapter between rows and the object store: references, content-addressed images, imports, and
// what an engine says when a row names a file of another machine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Blobs, NotOnThisMachine, keyOfRef, storeRef } from './blobs.js';
import { FileStore } from './file-store.js';
import { FeatureStore, FEATURE_LENGTH } from '../engine/feature-store.js';
import { collect, isObjectNotFound, type ObjectStore } from './object-store.js';

const info = { sha256: 'ab'.repeat(32), format: 'png' };

test('references: store keys and paths', () => {
  assert.equal(storeRef('models/x.json'), 'store:models/x.json');
  assert.equal(keyOfRef('store:models/x.json'), 'models/x.json');
  assert.equal(keyOfRef('/srv/data/x.png'), null);
});

test('an image is stored once by content, read and streamed by its reference', async () => {
  const root = mkdtempSync(join(tmpdir(), 'blobs-'));
  const blobs = new Blobs(new FileStore(root));
  const ref = await blobs.putImage(Buffer.from('png bytes'), info);
  assert.equal(ref, `store:blobs/ab/${info.sha256}.png`);
  assert.equal(await blobs.putImage(Buffer.from('png bytes'), info), ref);
  assert.equal((await blobs.read(ref)).toString(), 'png bytes');
  assert.equal((await collect(await blobs.stream(ref))).toString(), 'png bytes');
  assert.ok(await blobs.exists(ref));
  assert.ok(!(await blobs.exists('store:blobs/none')));
  await assert.rejects(blobs.read('store:blobs/none'), (e) => isObjectNotFound(e) && /in file:\/\/.* on .*: a file: store is one machine's folder; machines share objects through LEUKOGRAPH_STORAGE_URL=postgres: or s3:/.test((e as Error).message));
});

test("a path this machine does not have: the error says so and names the machine; a file is read by path", async () => {
  const blobs = new Blobs(new FileStore(mkdtempSync(join(tmpdir(), 'blobs-'))));
  await assert.rejects(blobs.read('/nowhere/lab-b/x.png', 'image file'), (e) => e instanceof NotOnThisMachine && /image file \/nowhere\/lab-b\/x.png is not on this machine \(/.test(e.message) && (e as NotOnThisMachine).code === 'ENOENT');
  await assert.rejects(blobs.stream('/nowhere/x.png'), NotOnThisMachine);
  const here = join(mkdtempSync(join(tmpdir(), 'blobs-')), 'x.png');
  writeFileSync(here, 'local');
  assert.equal((await blobs.read(here)).toString(), 'local');
});

test("a bundled model registered from another machine's checkout is read from this machine's models/ folder", async () => {
  const models = join(mkdtempSync(join(tmpdir(), 'checkout-')), 'models');
  mkdirSync(models);
  writeFileSync(join(models, 'classifier.json.gz'), 'mine');
  const blobs = new Blobs(new FileStore(mkdtempSync(join(tmpdir(), 'blobs-'))), { bundledDir: models });
  assert.equal((await blobs.read('/opt/elsewhere/leukograph/models/classifier.json.gz')).toString(), 'mine');
  assert.ok(await blobs.exists('/opt/elsewhere/leukograph/models/classifier.json.gz'));
  await assert.rejects(blobs.read('/opt/elsewhere/leukograph/data/classifier.json.gz'), NotOnThisMachine);
});

test('imports: kept by path in a file: store, copied into a shared one; a folder this machine cannot see is named', async () => {
  const file = new Blobs(new FileStore(mkdtempSync(join(tmpdir(), 'blobs-'))));
  assert.equal(await file.importedImage('/data/a.png', Buffer.from('x'), info), '/data/a.png');
  const inner = new FileStore(mkdtempSync(join(tmpdir(), 'blobs-')));
  const shared = new Blobs(Object.assign(Object.create(inner) as ObjectStore, { kind: 's3' as const }));
  const ref = await shared.importedImage('/data/a.png', Buffer.from('x'), info);
  assert.equal(ref, `store:blobs/ab/${info.sha256}.png`);
  assert.equal((await shared.read(ref)).toString(), 'x');
  assert.match((await file.folderProblem('/nowhere/imports'))!, /the folder \/nowhere\/imports is not on this machine .*an engine on a machine that sees the folder/);
  assert.equal(await file.folderProblem(tmpdir()), null);
});

test('the feature store keeps its files under features/ in the object store', async () => {
  const root = mkdtempSync(join(tmpdir(), 'blobs-'));
  const store = new FileStore(root);
  const features = new FeatureStore(store);
  const f = Float32Array.from({ length: FEATURE_LENGTH }, (_, i) => (i % 7) - 3);
  const file = features.fileFor('det', 'abcdef');
  await features.write(file, [f, f]);
  assert.equal(await store.size(`features/${file}`), 8 + 2 * FEATURE_LENGTH * 2);
  const back = await features.read(FeatureStore.ref(file, 1));
  assert.deepEqual(Array.from(back.subarray(0, 8)), Array.from(f.subarray(0, 8)));
  // A rewrite is read afresh, not from the cache of the last files read.
  await features.write(file, [f.map((v) => v + 1)]);
  assert.equal((await features.read(FeatureStore.ref(file, 0)))[0], f[0]! + 1);
});
