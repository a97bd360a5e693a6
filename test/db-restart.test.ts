// PostgreSQL (the embedded one) restarts while a subscriber watches a running import: /healthz says the
// database is down meanwhile, the subscriber keeps receiving events after the restart, and the job ends
// (here: succeeded, retried after the outage cut its run off) with every image stored once, without a
// manual step. A job started afterwards streams too. Runs once, on the embedded database (not a .db.test).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { createClient, type Client } from 'graphql-ws';
import { startStack, waitFor, throttle, type Stack } from './helpers/stack.js';

let s: Stack;
let ws: Client;
let base: string;

before(async () => {
  s = await startStack();
  base = s.url.replace(/\/graphql$/, '');
  ws = createClient({ url: s.url.replace('http', 'ws'), webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
});
after(async () => {
  await ws?.dispose();
  await s?.close();
});

interface Seen {
  at: number;
  status?: string;
  done?: number;
  item?: string;
}

function watch(jobId: string): { events: Seen[]; ended: Promise<void> } {
  const events: Seen[] = [];
  const progress = new Promise<void>((resolve, reject) =>
    ws.subscribe({ query: `subscription($id: ID!) { jobProgress(jobId: $id) { status done } }`, variables: { id: jobId } }, {
      next: (v) => void events.push({ at: Date.now(), status: (v.data as any).jobProgress.status, done: (v.data as any).jobProgress.done }),
      error: reject,
      complete: resolve,
    }),
  );
  const items = new Promise<void>((resolve, reject) =>
    ws.subscribe({ query: `subscription($id: ID!) { jobItems(jobId: $id) { itemId ok } }`, variables: { id: jobId } }, {
      next: (v) => void events.push({ at: Date.now(), item: (v.data as any).jobItems.itemId }),
      error: reject,
      complete: resolve,
    }),
  );
  return { events, ended: Promise.all([progress, items]).then(() => undefined) };
}

async function importJob(name: string, throttleMs: number): Promise<{ datasetId: string; jobId: string }> {
  const datasetId = (await s.ok(`mutation($n: String!) { createDataset(input: { name: $n }) { id } }`, { n: name })).createDataset.id;
  const jobId = (await s.ok(`mutation($i: ImportDatasetInput!) { importDataset(input: $i) { id } }`, { i: { datasetId, path: 'acevedo20' } }, throttle(throttleMs))).importDataset.id;
  return { datasetId, jobId };
}

test('a subscriber keeps receiving events across a restart of the embedded PostgreSQL, and the job ends by itself', { skip: !process.env.LEUKOGRAPH_TEST_SERVER_URL ? false : 'runs on the embedded database only' }, async () => {
  const embedded = s.api.db.embedded;
  assert.ok(embedded, 'the stack runs the embedded database in this process');
  const { datasetId, jobId } = await importJob('restarted', 400);
  const w = watch(jobId);
  await waitFor(async () => w.events.filter((e) => e.item).length >= 3, 'three images imported', 30_000);

  const restarted = embedded.restart(2000);
  await new Promise((r) => setTimeout(r, 700));
  const down = await fetch(`${base}/healthz`);
  assert.equal(down.status, 503, 'health says the database is down');
  assert.equal((await down.json()).database.ok, false);
  await restarted;
  const back = Date.now();

  await Promise.race([w.ended, new Promise((_, reject) => setTimeout(() => reject(new Error('the job did not end within 90 s of the restart')), 90_000))]);
  const after = w.events.filter((e) => e.at > back);
  assert.ok(after.some((e) => e.item), `items arrive after the restart (${after.length} events after it)`);
  const job = (await s.ok(`query($id: ID!) { job(id: $id) { status attempts error result message } }`, { id: jobId })).job;
  assert.ok(['SUCCEEDED', 'FAILED'].includes(job.status), JSON.stringify(job));
  assert.equal(w.events.filter((e) => e.status).at(-1)!.status, job.status, 'the subscriber saw how it ended');
  if (job.status === 'FAILED') assert.ok(job.error, 'a failed job says why');
  else {
    const imgs = await s.ok(`query($d: ID!) { images(datasetId: $d, limit: 100) { total items { sourcePath } } }`, { d: datasetId });
    assert.equal(imgs.images.total, 15, 'every image stored');
    assert.equal(new Set(imgs.images.items.map((i: { sourcePath: string }) => i.sourcePath)).size, 15, 'none twice');
  }
  const health = await waitFor(async () => {
    const r = await fetch(`${base}/healthz`);
    return r.status === 200 ? r.json() : null;
  }, 'health to recover', 30_000);
  assert.equal(health.events.ok, true, 'the event listener is connected again');

  // A job started after the restart streams from the start: the listener re-subscribed.
  const second = await importJob('after-restart', 0);
  const w2 = watch(second.jobId);
  await w2.ended;
  assert.equal(w2.events.filter((e) => e.item).length, 15);
  assert.equal(w2.events.filter((e) => e.status).at(-1)!.status, 'SUCCEEDED');
});
