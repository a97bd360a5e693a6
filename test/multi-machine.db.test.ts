// Beyond one machine (issue 22): two API processes and two engines, each engine with its own empty data
// directory as if on its own machine, sharing only the PostgreSQL server and an S3 store (s3rver). Images
// are uploaded through API A and analyzed through API B; the analysis is detected on one engine and
// classified on the other (forced by their job kinds), and a subscriber on API A sees every cell. Then, with
// both engines taking every kind, the engine running an analysis is killed mid-job: the other finishes
// it, with no cell lost or stored twice. Nothing but rows and store objects passes between the engines:
// their data directories stay without images, features or models.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { createClient, type Client } from 'graphql-ws';
import { createTestDatabase, type TestDatabase } from './helpers/test-db.js';
import { openDatabase, type Database } from '../src/db/database.js';
import { loadConfig } from '../src/config.js';
import { FIXTURES, REPO } from './helpers/stack.js';
import { startApiProcess, startEngineProcess, type ChildLeukograph } from './helpers/processes.js';
import { startS3Server, type S3TestServer } from './helpers/s3-server.js';
import { openStore } from '../src/storage/open-store.js';
import type { ObjectStore } from '../src/storage/object-store.js';

const HAVE_DETECTOR = existsSync(join(REPO, 'models/detector.json'));
let tdb: TestDatabase;
let db: Database;
let s3: S3TestServer;
let store: ObjectStore;
let apiA: ChildLeukograph;
let apiB: ChildLeukograph;
const engines = new Map<string, ChildLeukograph>();
let wsA: Client;
const dirs: string[] = [];
let env: Record<string, string>;
/** Cells per image content (sha256) of the split analysis, which the killed one must reproduce. */
const cellsBySha = new Map<string, number>();
let classifierId: string;

const ownDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'leukograph-machine-'));
  dirs.push(d);
  return d;
};

async function gql(api: ChildLeukograph, query: string, variables?: Record<string, unknown>): Promise<any> {
  const res = await fetch(api.id, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
  const body = (await res.json()) as { data?: any; errors?: unknown[] };
  if (body.errors?.length) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

async function ended(api: ChildLeukograph, jobId: string, ms = 240_000): Promise<any> {
  const t0 = Date.now();
  for (;;) {
    const j = (await gql(api, `query($id: ID!) { job(id: $id) { status error message result } }`, { id: jobId })).job;
    if (['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(j.status)) return j;
    if (Date.now() - t0 > ms) throw new Error(`job ${jobId} still ${j.status} after ${ms} ms: ${j.message}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function items(ws: Client, jobId: string): { ids: string[]; statuses: string[]; done: Promise<void> } {
  const ids: string[] = [];
  const statuses: string[] = [];
  const cells = new Promise<void>((resolve, reject) => {
    ws.subscribe({ query: `subscription($j: ID!) { jobItems(jobId: $j) { itemKind itemId ok } }`, variables: { j: jobId } }, {
      next: (v: any) => v.data.jobItems.itemKind === 'CELL' || v.data.jobItems.itemKind === 'cell' ? ids.push(v.data.jobItems.itemId) : undefined,
      error: reject, complete: resolve,
    });
  });
  const progress = new Promise<void>((resolve, reject) => {
    ws.subscribe({ query: `subscription($j: ID!) { jobProgress(jobId: $j) { status message } }`, variables: { j: jobId } }, {
      next: (v: any) => statuses.push(`${v.data.jobProgress.status}: ${v.data.jobProgress.message ?? ''}`), error: reject, complete: resolve,
    });
  });
  return { ids, statuses, done: Promise.all([cells, progress]).then(() => undefined) };
}

async function startEngine(kinds: string | null): Promise<ChildLeukograph> {
  const e = await startEngineProcess(db.url, ownDir(), { ...env, ...(kinds ? { LEUKOGRAPH_ENGINE_KINDS: kinds } : {}) });
  engines.set(e.id, e);
  return e;
}

async function upload(api: ChildLeukograph, datasetId: string, file: string): Promise<string> {
  const base = api.id.replace(/\/graphql$/, '');
  const res = await fetch(`${base}/upload?datasetId=${datasetId}&filename=${encodeURIComponent(file.split('/').at(-1)!)}`, {
    method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: readFileSync(join(FIXTURES, file)),
  });
  const body = await res.text();
  assert.ok(res.status === 201 || res.status === 200, `upload ${file}: ${res.status} ${body}`);
  return (JSON.parse(body) as { image: { id: string } }).image.id;
}

/** The fields (several cells each) that the analyses run on. */
const FIELDS = ['zheng-ds2/images/001.png', 'zheng-ds2/images/003.png', 'zheng-ds2/images/007.png', 'zheng-ds2/images/011.png', 'bccd/images/BloodImage_00000.jpg'];

before(async () => {
  tdb = await createTestDatabase();
  db = await openDatabase(loadConfig({ dataDir: ownDir(), databaseUrl: tdb.databaseUrl }));
  s3 = await startS3Server(); // its keys go into this process's environment, and so the children's
  const storageUrl = s3.storageUrl('lab');
  store = await openStore(storageUrl, { dataDir: ownDir(), databaseUrl: '' });
  env = {
    LEUKOGRAPH_STORAGE_URL: storageUrl, LEUKOGRAPH_DATA_ROOTS: FIXTURES, LEUKOGRAPH_HEARTBEAT_MS: '500', LEUKOGRAPH_ENGINE_STALE_MS: '4000',
    LEUKOGRAPH_ENGINE_GPU: 'no',
  };
  [apiA, apiB] = await Promise.all([startApiProcess(db.url, ownDir(), env), startApiProcess(db.url, ownDir(), env)]);
  wsA = createClient({ url: apiA.id.replace(/^http/, 'ws'), webSocketImpl: WebSocket, retryAttempts: 0 });
});

after(async () => {
  await wsA?.dispose();
  await Promise.all([apiA?.stop(), apiB?.stop(), ...[...engines.values()].map((e) => e.stop())]);
  await store?.close();
  await s3?.close();
  await db?.close();
  await tdb?.drop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** What an engine's data directory holds besides its crop cache: nothing the other engine would need. */
function engineDirHolds(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (r === 'crops' || r.startsWith('crops/')) continue;
      if (e.isDirectory()) walk(r);
      else out.push(r);
    }
  };
  if (existsSync(dir)) walk('');
  return out;
}

test('split by kinds: imported into the store on one engine, a classifier trained on the other from the store', { skip: !HAVE_DETECTOR && 'no detector model' }, async () => {
  const detecting = await startEngine('import,detect,analyze');
  const classifying = await startEngine('classify,train-classifier');
  const ds = (await gql(apiB, `mutation { createDataset(input: { name: "labelled" }) { id } }`)).createDataset.id;
  const imp = await gql(apiB, `mutation($i: ImportDatasetInput!) { importDataset(input: $i) { id } }`, { i: { datasetId: ds, path: 'acevedo20' } });
  assert.equal((await ended(apiA, imp.importDataset.id)).status, 'SUCCEEDED');
  // Imported images were copied into the shared store: their rows name store objects, not the folder.
  const paths = (await db.dataSource.query(`SELECT storage_path FROM images WHERE dataset_id = $1`, [ds])).map((r: any) => r.storage_path as string);
  assert.equal(paths.length, 15);
  assert.ok(paths.every((p: string) => p.startsWith('store:blobs/')), paths[0]);
  const det = await gql(apiB, `mutation($d: ID!) { detectCells(input: { datasetId: $d, topOnly: true }) { id } }`, { d: ds });
  assert.equal((await ended(apiA, det.detectCells.id)).status, 'SUCCEEDED');
  const train = await gql(apiA, `mutation($d: ID!) { trainClassifier(input: { datasetIds: [$d], features: MORPHOLOGY, trees: 20, testFraction: 0 }) { id } }`, { d: ds });
  const t = await ended(apiB, train.trainClassifier.id);
  assert.equal(t.status, 'SUCCEEDED', JSON.stringify(t));
  classifierId = t.result.modelId;
  const [model] = await db.dataSource.query(`SELECT artifact_path FROM models WHERE id = $1`, [classifierId]);
  assert.match(model.artifact_path, /^store:models\/classifier-/);
  const ran = await db.dataSource.query(`SELECT kind, engine_id FROM jobs WHERE id = ANY($1)`, [[imp.importDataset.id, det.detectCells.id, train.trainClassifier.id]]);
  for (const r of ran) assert.equal(r.engine_id, r.kind === 'train-classifier' ? classifying.id : detecting.id, r.kind);
});

test('upload through API A, analyze through API B: detected on one engine, classified on the other, every cell seen on A', { skip: !HAVE_DETECTOR && 'no detector model' }, async () => {
  assert.ok(classifierId, 'the first test trained a classifier');
  const [detecting, classifying] = [...engines.values()];
  const ds = (await gql(apiA, `mutation { createDataset(input: { name: "fields" }) { id } }`)).createDataset.id;
  for (const f of FIELDS) await upload(apiA, ds, f);
  const paths = (await db.dataSource.query(`SELECT storage_path FROM images WHERE dataset_id = $1`, [ds])).map((r: any) => r.storage_path);
  assert.ok(paths.every((p: string) => p.startsWith('store:blobs/')));
  const job = (await gql(apiB, `mutation($d: ID!) { analyzeImages(input: { datasetId: $d }) { id } }`, { d: ds })).analyzeImages.id;
  const seen = items(wsA, job);
  await seen.done;
  const j = await ended(apiB, job);
  assert.equal(j.status, 'SUCCEEDED', JSON.stringify(j));
  assert.deepEqual(j.result.steps, [{ step: 'detect', engineId: detecting.id }, { step: 'classify', engineId: classifying.id }]);
  assert.ok(seen.statuses.some((s) => /^QUEUED: detected on engine/.test(s)), `A saw the hand-on: ${seen.statuses.join(' | ')}`);
  const cells = await db.dataSource.query(
    `SELECT c.id, c.prediction, i.sha256, c.index FROM cells c JOIN images i ON i.id = c.image_id WHERE i.dataset_id = $1`, [ds]);
  assert.ok(cells.length >= FIELDS.length, `cells: ${cells.length}`);
  assert.equal(j.result.cells, cells.length);
  assert.deepEqual(new Set(seen.ids), new Set(cells.map((c: any) => c.id)), 'A saw every cell');
  assert.ok(cells.every((c: any) => c.prediction?.modelId === classifierId), 'every cell classified with the classifier the other engine trained');
  for (const c of cells) cellsBySha.set(c.sha256, (cellsBySha.get(c.sha256) ?? 0) + 1);
  // Features went to the store; the engines' own directories hold nothing another machine would need.
  const features: string[] = [];
  for await (const k of store.list('features/')) features.push(k);
  assert.ok(features.length >= FIELDS.length, `feature files in the store: ${features.length}`);
  for (const e of [detecting, classifying]) {
    const dir = e.child.spawnargs[e.child.spawnargs.indexOf('--data-dir') + 1]!;
    const held = engineDirHolds(dir).filter((f) => !f.startsWith('postgres') && !f.endsWith('.log'));
    assert.deepEqual(held, [], `engine ${e.id} data directory`);
  }
});

test('kill the engine running an analysis mid-job: the other finishes it, no cell lost or stored twice', { skip: !HAVE_DETECTOR && 'no detector model' }, async () => {
  assert.ok(cellsBySha.size > 0, 'the split analysis ran');
  // Both engines take every kind now (new processes, new empty data directories).
  await Promise.all([...engines.values()].map((e) => e.stop()));
  engines.clear();
  await Promise.all([startEngine(null), startEngine(null)]);
  const ds = (await gql(apiA, `mutation { createDataset(input: { name: "fields-again" }) { id } }`)).createDataset.id;
  for (const f of FIELDS) await upload(apiA, ds, f);
  const job = (await gql(apiB, `mutation($d: ID!) { analyzeImages(input: { datasetId: $d }) { id } }`, { d: ds })).analyzeImages.id;
  const seen = items(wsA, job);
  let victim: ChildLeukograph | undefined;
  for (const t0 = Date.now(); Date.now() - t0 < 120_000; ) {
    const [row] = await db.dataSource.query(`SELECT status, done, total, engine_id FROM jobs WHERE id = $1`, [job]);
    if (row.status === 'running' && row.done >= 1 && row.done < row.total) {
      victim = engines.get(row.engine_id);
      break;
    }
    assert.ok(row.status === 'queued' || row.status === 'running', `the job ended before it could be interrupted: ${row.status}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(victim, 'the job ran');
  await victim.kill();
  engines.delete(victim.id);
  const survivor = [...engines.values()][0]!;
  await seen.done;
  const j = await ended(apiB, job);
  assert.equal(j.status, 'SUCCEEDED', JSON.stringify(j));
  const [row] = await db.dataSource.query(`SELECT engine_id, attempts FROM jobs WHERE id = $1`, [job]);
  assert.equal(row.engine_id, survivor.id, 'the surviving engine finished it');
  assert.ok(row.attempts >= 2);
  const cells = await db.dataSource.query(
    `SELECT c.id, c.prediction, i.sha256 FROM cells c JOIN images i ON i.id = c.image_id WHERE i.dataset_id = $1`, [ds]);
  // The same images as the split analysis (new rows, the same content): the same cells, each stored once.
  const per = new Map<string, number>();
  for (const c of cells) per.set(c.sha256, (per.get(c.sha256) ?? 0) + 1);
  assert.deepEqual(new Map([...per].sort()), new Map([...cellsBySha].sort()), 'cells per image as in the uninterrupted analysis');
  assert.ok(cells.every((c: any) => c.prediction?.modelId === classifierId), 'every cell classified');
  assert.deepEqual(new Set(seen.ids), new Set(cells.map((c: any) => c.id)), 'A saw every cell');
});
