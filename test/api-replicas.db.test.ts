// API replicas: two `leukograph serve --no-engine` processes and an engine process on one database, as
// behind a load balancer. A job started through one replica streams its events to a subscriber on the
// other, and is cancelled through either: every event goes through PostgreSQL NOTIFY, which reaches
// every process that LISTENs on the database, so no replica needs to know the others.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { createClient, type Client } from 'graphql-ws';
import { createTestDatabase, type TestDatabase } from './helpers/test-db.js';
import { openDatabase, type Database } from '../src/db/database.js';
import { loadConfig } from '../src/config.js';
import { FIXTURES, throttle } from './helpers/stack.js';
import { startApiProcess, startEngineProcess, type ChildLeukograph } from './helpers/processes.js';

let tdb: TestDatabase;
let db: Database;
let apiA: ChildLeukograph;
let apiB: ChildLeukograph;
let engine: ChildLeukograph;
let wsA: Client;
const dirs: string[] = [];

const env = { LEUKOGRAPH_DATA_ROOTS: FIXTURES, LEUKOGRAPH_TEST_HOOKS: '1', LEUKOGRAPH_HEARTBEAT_MS: '500', LEUKOGRAPH_ENGINE_STALE_MS: '5000' };
const ownDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'leukograph-replica-'));
  dirs.push(d);
  return d;
};

async function gql(api: ChildLeukograph, query: string, variables?: Record<string, unknown>, headers: Record<string, string> = {}): Promise<any> {
  const res = await fetch(api.id, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query, variables }) });
  const body = (await res.json()) as { data?: any; errors?: unknown[] };
  if (body.errors?.length) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

function collect<T>(ws: Client, query: string, variables: Record<string, unknown>): { events: T[]; done: Promise<void> } {
  const events: T[] = [];
  const done = new Promise<void>((resolve, reject) => {
    ws.subscribe({ query, variables }, { next: (v: any) => events.push(Object.values(v.data)[0] as T), error: reject, complete: resolve });
  });
  return { events, done };
}

before(async () => {
  tdb = await createTestDatabase();
  // The database (embedded, or a server's) is opened here once and shared by every child by URL.
  db = await openDatabase(loadConfig({ dataDir: ownDir(), databaseUrl: tdb.databaseUrl }));
  [apiA, apiB] = await Promise.all([startApiProcess(db.url, ownDir(), env), startApiProcess(db.url, ownDir(), env)]);
  wsA = createClient({ url: apiA.id.replace(/^http/, 'ws'), webSocketImpl: WebSocket, retryAttempts: 0 });
});

after(async () => {
  await wsA?.dispose();
  await Promise.all([apiA?.stop(), apiB?.stop(), engine?.stop()]);
  await db?.close();
  await tdb?.drop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test('a job started through replica B streams every event to a subscriber on replica A', async () => {
  const ds = await gql(apiB, `mutation { createDataset(input: { name: "replicas" }) { id } }`);
  // No engine yet: the job waits in the queue while A subscribes, so no event can come first.
  const job = await gql(apiB, `mutation($i: ImportDatasetInput!) { importDataset(input: $i) { id status } }`, {
    i: { datasetId: ds.createDataset.id, path: 'acevedo20' },
  }, throttle(50));
  const jobId = job.importDataset.id;
  assert.equal(job.importDataset.status, 'QUEUED');
  const items = collect<{ itemId: string; ok: boolean }>(wsA, `subscription($j: ID!) { jobItems(jobId: $j) { itemId ok } }`, { j: jobId });
  const progress = collect<{ status: string; done: number; total: number }>(wsA, `subscription($j: ID!) { jobProgress(jobId: $j) { status done total } }`, { j: jobId });
  await new Promise((r) => setTimeout(r, 300)); // both subscriptions registered on A
  engine = await startEngineProcess(db.url, ownDir(), env);
  await Promise.all([items.done, progress.done]);
  const end = progress.events.at(-1)!;
  assert.equal(end.status, 'SUCCEEDED');
  const images = await gql(apiA, `query($d: ID!) { images(datasetId: $d, limit: 500) { total items { id } } }`, { d: ds.createDataset.id });
  assert.ok(images.images.total >= 10);
  assert.deepEqual(new Set(items.events.map((e) => e.itemId)), new Set(images.images.items.map((i: any) => i.id)), 'A saw an item event for every image');
  assert.ok(items.events.every((e) => e.ok));
  assert.ok(progress.events.some((e) => e.status === 'RUNNING' && e.done > 0 && e.done < e.total), 'A saw progress while the job ran');
});

test('a job started through replica A is cancelled through replica B', async () => {
  const ds = await gql(apiA, `mutation { createDataset(input: { name: "replicas-cancel" }) { id } }`);
  const job = await gql(apiA, `mutation($i: ImportDatasetInput!) { importDataset(input: $i) { id } }`, {
    i: { datasetId: ds.createDataset.id, path: 'acevedo20' },
  }, throttle(400));
  const jobId = job.importDataset.id;
  const progress = collect<{ status: string }>(wsA, `subscription($j: ID!) { jobProgress(jobId: $j) { status } }`, { j: jobId });
  for (;;) {
    const j = await gql(apiB, `query($id: ID!) { job(id: $id) { status done } }`, { id: jobId });
    if (j.job.status === 'RUNNING' && j.job.done >= 1) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await gql(apiB, `mutation($id: ID!) { cancelJob(id: $id) { id } }`, { id: jobId });
  await progress.done;
  assert.equal(progress.events.at(-1)!.status, 'CANCELLED');
  const j = await gql(apiA, `query($id: ID!) { job(id: $id) { status done total } }`, { id: jobId });
  assert.ok(j.job.done < j.job.total, `stopped after the current image: ${j.job.done} of ${j.job.total}`);
});
