// The typed client SDK (client-sdk/) against a running server on a real PostgreSQL: subscriptions of a
// fixture import, typed errors, the token, reconnection through a dropped socket, and analyzeImage.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { startStack, throttle, FIXTURES, REPO, type Stack } from './helpers/stack.js';
import {
  createLeukographClient, type LeukographClient, type JobProgressEvent,
  BadInputError, NotFoundError, UnauthenticatedError, ConflictError, JobFailedError, LeukographError,
  CreateDatasetDocument, DatasetDocument, DatasetsDocument, ImportDatasetDocument, JobDocument, JobItemsDocument, CancelJobDocument,
  JobProgressDocument, ImagesDocument, type JobItemsSubscription,
} from '../client-sdk/src/index.js';

const TOKEN = 'sdk-test-token';
const UNKNOWN = '00000000-0000-4000-8000-000000000000';
const DETECTOR = join(REPO, 'models/detector.json');

let s: Stack;
let client: LeukographClient;
let anonymous: LeukographClient;

// One stack, with a token: the client that has it does everything, the one without shows the refusals.
before(async () => {
  s = await startStack({ token: TOKEN });
  client = createLeukographClient({ url: s.url, token: TOKEN, retryAttempts: 0 });
  anonymous = createLeukographClient({ url: s.url, retryAttempts: 0 });
});

after(async () => {
  for (const c of opened) await c.close();
  await client?.close();
  await anonymous?.close();
  await s?.close();
});

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const v of it) out.push(v);
  return out;
}

/** A client whose imports pause per image (the test-only header; throttling is not in the schema). */
function slowImports(ms: number): LeukographClient {
  const c = createLeukographClient({ url: s.url, token: TOKEN, retryAttempts: 0, headers: throttle(ms) });
  opened.push(c);
  return c;
}
const opened: LeukographClient[] = [];

async function dataset(name: string): Promise<string> {
  return (await client.mutate(CreateDatasetDocument, { input: { name } })).createDataset.id;
}

test('typed queries and mutations over HTTP', async () => {
  const id = await dataset('sdk-typed');
  const { dataset: d } = await client.query(DatasetDocument, { id });
  assert.ok(d, 'the dataset is found');
  assert.equal(d.name, 'sdk-typed');
  assert.equal(d.stats.images, 0);
  const { datasets } = await client.query(DatasetsDocument);
  assert.ok(datasets.some((x) => x.id === id));
  assert.equal((await client.ensureDataset('sdk-typed')).id, id, 'ensureDataset reuses a dataset by name');
});

test('jobProgress and jobItems stream the events of a fixture import (Zheng DS2)', async () => {
  const datasetId = await dataset('sdk-zheng');
  const { importDataset: job } = await slowImports(150).mutate(ImportDatasetDocument, { input: { datasetId, path: 'zheng-ds2' } });
  assert.equal(job.type, 'IMPORT');
  // Both subscriptions leave at once, before either is read.
  const itemsIt = client.subscribe(JobItemsDocument, { jobId: job.id });
  const progressIt = client.jobProgress(job.id);
  const [items, progress] = await Promise.all([collect<JobItemsSubscription>(itemsIt), collect<JobProgressEvent>(progressIt)]);

  assert.ok(progress.length >= 2, `progress events: ${JSON.stringify(progress)}`);
  assert.ok(progress.every((p) => p.jobId === job.id));
  const last = progress.at(-1)!;
  assert.deepEqual([last.status, last.done, last.total, last.progress], ['SUCCEEDED', 4, 4, 1]);
  for (let i = 1; i < progress.length; i++) assert.ok(progress[i].done >= progress[i - 1].done, 'done never goes back');

  assert.ok(items.length >= 1, 'at least one image event streamed');
  const { images } = await client.query(ImagesDocument, { datasetId, limit: 10 });
  assert.equal(images.total, 4);
  const ids = new Set(images.items.map((i) => i.id));
  for (const { jobItems: e } of items) {
    assert.deepEqual([e.jobId, e.itemKind, e.ok], [job.id, 'image', true]);
    assert.ok(ids.has(e.itemId), `item ${e.itemId} is an image of the dataset`);
  }
  assert.deepEqual(images.items.map((i) => i.label).sort(), ['eosinophil', 'lymphocyte', 'monocyte', 'neutrophil']);

  // A job that has ended: its state, then the end; its item stream ends at once.
  assert.deepEqual((await collect(client.jobProgress(job.id))).map((p) => p.status), ['SUCCEEDED']);
  assert.deepEqual(await collect(client.subscribe(JobItemsDocument, { jobId: job.id })), []);
});

test('typed errors: an unknown id is null (NotFoundError where the SDK needs the row), BadInputError for a malformed one, ConflictError', async () => {
  assert.equal((await client.query(DatasetDocument, { id: UNKNOWN })).dataset, null);
  await assert.rejects(client.waitForJob(UNKNOWN), (e: unknown) => {
    assert.ok(e instanceof NotFoundError && e instanceof LeukographError, String(e));
    assert.equal(e.code, 'NOT_FOUND');
    assert.deepEqual(e.path, ['job']);
    assert.match(e.message, /job/);
    return true;
  });
  await assert.rejects(client.query(JobDocument, { id: '42; DROP TABLE jobs' }), (e: unknown) => {
    assert.ok(e instanceof BadInputError, String(e));
    assert.equal(e.code, 'BAD_USER_INPUT');
    assert.deepEqual(e.path, ['job']);
    return true;
  });
  // And over POST /upload.
  await assert.rejects(client.uploadImage(UNKNOWN, Buffer.from('x'), { filename: 'a.png' }), NotFoundError);
  const datasetId = await dataset('sdk-errors');
  await assert.rejects(client.uploadImage(datasetId, Buffer.from('not an image')), (e: unknown) => e instanceof BadInputError && /not a JPEG/.test(e.message));

  const { importDataset: job } = await client.mutate(ImportDatasetDocument, { input: { datasetId, path: 'zheng-ds2' } });
  assert.equal((await client.waitForJob(job.id, { timeoutMs: 30_000 })).status, 'SUCCEEDED');
  await assert.rejects(client.mutate(CancelJobDocument, { id: job.id }), ConflictError);
});

test('typed errors over graphql-ws: a subscription that cannot start', async () => {
  await assert.rejects(collect(client.jobProgress(UNKNOWN)), NotFoundError);
  await assert.rejects(collect(client.subscribe(JobItemsDocument, { jobId: 'nope' })), BadInputError);
});

test('with a token on the server: UnauthenticatedError without it, for queries, subscriptions, mutations and uploads', async () => {
  await assert.rejects(anonymous.mutate(CreateDatasetDocument, { input: { name: 'nope' } }), (e: unknown) => {
    assert.ok(e instanceof UnauthenticatedError, String(e));
    assert.equal(e.code, 'UNAUTHENTICATED');
    return true;
  });
  const wrong = createLeukographClient({ url: s.url, token: 'wrong' });
  await assert.rejects(wrong.mutate(CreateDatasetDocument, { input: { name: 'nope' } }), UnauthenticatedError);
  const datasetId = await dataset('sdk-guarded');
  const png = readFileSync(join(FIXTURES, 'zheng-ds2/images/001.png'));
  await assert.rejects(anonymous.uploadImage(datasetId, png), UnauthenticatedError);
  const up = await client.uploadImage(datasetId, png, { label: 'lymphocyte' });
  assert.deepEqual([up.created, up.image.format, up.image.rawLabel, up.image.sourcePath.endsWith('/image.png')], [true, 'png', 'lymphocyte', true]);
  const fromPath = await client.uploadImage(datasetId, join(FIXTURES, 'zheng-ds2/images/001.png'));
  assert.deepEqual([fromPath.created, fromPath.image.sourcePath.endsWith('/001.png')], [true, true], 'a path sends its file name');
  assert.equal((await client.uploadImage(datasetId, png, { filename: '001.png' })).created, false, 'the same image again');
  await assert.rejects(anonymous.query(DatasetsDocument), UnauthenticatedError);
  assert.equal((await client.query(DatasetsDocument)).datasets.length > 0, true);
  const { importDataset: job } = await client.mutate(ImportDatasetDocument, { input: { datasetId, path: 'zheng-ds2' } });
  await assert.rejects(collect(anonymous.jobProgress(job.id)), UnauthenticatedError);
  assert.equal((await collect(client.jobProgress(job.id))).at(-1)?.status, 'SUCCEEDED');
});

/** A TCP proxy in front of the API whose connections the test can cut. */
async function cuttableProxy(target: URL): Promise<{ url: string; connections: number; cut(): void; close(): Promise<void> }> {
  const open = new Set<Socket>();
  let connections = 0;
  const server: Server = createServer((down) => {
    connections++;
    const up = connect(Number(target.port), target.hostname);
    for (const [a, b] of [[down, up], [up, down]] as const) {
      open.add(a);
      a.pipe(b);
      a.on('error', () => b.destroy());
      a.on('close', () => {
        open.delete(a);
        b.destroy();
      });
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}${target.pathname}`,
    get connections() {
      return connections;
    },
    cut: () => open.forEach((sock) => sock.destroy()),
    close: () => new Promise<void>((r) => {
      open.forEach((sock) => sock.destroy());
      server.close(() => r());
    }),
  };
}

test('a subscription survives a dropped socket: it reconnects, resubscribes and sees the job end', async () => {
  const proxy = await cuttableProxy(new URL(s.url));
  const flaky = createLeukographClient({ url: proxy.url, token: TOKEN, retryAttempts: 5, retryWait: () => new Promise((r) => setTimeout(r, 100)) });
  try {
    const datasetId = await dataset('sdk-reconnect');
    const { importDataset: job } = await slowImports(400).mutate(ImportDatasetDocument, { input: { datasetId, path: 'zheng-ds2' } });
    const seen: JobProgressEvent[] = [];
    let cut = false;
    for await (const p of flaky.jobProgress(job.id)) {
      seen.push(p);
      if (!cut) {
        cut = true;
        proxy.cut();
      }
    }
    assert.ok(proxy.connections >= 2, `connections through the proxy: ${proxy.connections}`);
    assert.equal(seen.at(-1)?.status, 'SUCCEEDED', JSON.stringify(seen));
    assert.equal(seen.at(-1)?.done, 4);
  } finally {
    await flaky.close();
    await proxy.close();
  }
});

test('a subscription whose server is gone ends with a NetworkError once retries are spent', async () => {
  const proxy = await cuttableProxy(new URL(s.url));
  await proxy.close();
  const gone = createLeukographClient({ url: proxy.url, retryAttempts: 1, retryWait: () => Promise.resolve() });
  try {
    await assert.rejects(collect(gone.jobProgress(UNKNOWN)), (e: unknown) => e instanceof LeukographError && e.code === 'NETWORK_ERROR');
    await assert.rejects(gone.query(DatasetsDocument), (e: unknown) => e instanceof LeukographError && /ECONNREFUSED/.test(e.message));
  } finally {
    await gone.close();
  }
});

const noDetector = existsSync(DETECTOR) ? false : 'models/detector.json is absent: no detector model in this checkout yet, so no cells can be found';

test('analyzeImage streams the cells of a fixture image', { skip: noDetector }, async () => {
  const file = join(FIXTURES, 'zheng-ds2/images/003.png');
  const stream = client.analyzeImage(file, { datasetName: 'sdk-analyze', label: 'neutrophil' });
  const cells = await collect(stream);
  assert.equal(stream.job?.status, 'SUCCEEDED', JSON.stringify(stream.job));
  assert.equal(stream.uploads.length, 1);
  const imageId = stream.uploads[0].image.id;
  assert.ok(cells.length >= 1, 'at least one white cell in a Zheng DS2 image');
  assert.equal(new Set(cells.map((c) => c.id)).size, cells.length, 'each cell once');
  for (const c of cells) {
    assert.equal(c.image.id, imageId);
    assert.equal(c.box.length, 4);
    assert.ok(c.box[2] > c.box[0] && c.box[3] > c.box[1], `box ${c.box}`);
    assert.ok(c.score > 0 && c.score <= 1, `score ${c.score}`);
  }
  assert.equal((stream.job?.result as { cells?: number }).cells, cells.length);
  // Analysing the same image again stores nothing new; the stream still gives its cells.
  const again = await collect(client.analyzeImage(file, { datasetName: 'sdk-analyze' }));
  assert.deepEqual(again.map((c) => c.id).sort(), cells.map((c) => c.id).sort());
});

test('without a detector, analyzeImage is refused with a BadInputError that says why', { skip: noDetector ? false : 'a detector is present' }, async () => {
  const stream = client.analyzeImage(join(FIXTURES, 'zheng-ds2/images/001.png'), { datasetName: 'sdk-analyze' });
  await assert.rejects(collect(stream), (e: unknown) => {
    assert.ok(e instanceof BadInputError, String(e));
    assert.match(e.message, /detector/i);
    return true;
  });
  assert.equal(stream.uploads.length, 1, 'the image was sent');
  assert.equal(stream.job, undefined, 'no job was started');
});

const EXAMPLE = join(REPO, 'client-sdk/dist/examples/differential-count.js');
const noExample = noDetector || (existsSync(EXAMPLE) ? false : 'client-sdk is not built (npx tsc -p client-sdk/tsconfig.json)');

test('the differential-count example sends a smear and prints its count', { skip: noExample }, async () => {
  const { execFile } = await import('node:child_process');
  const { stdout } = await new Promise<{ stdout: string }>((resolve, reject) =>
    execFile(process.execPath, [EXAMPLE, '--url', s.url, '--token', TOKEN, '--dataset', 'sdk-example', join(FIXTURES, 'zheng-ds2/images')], { timeout: 45_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stdout}\n${stderr}`)) : resolve({ stdout })));
  assert.match(stdout, /sending 4 images/);
  assert.match(stdout, /differential count of 4 images/);
  // A fresh server has the bundled classifier (models/) active: the example prints the differential table.
  // (Without one it says so and lists the cells per image.)
  assert.match(stdout, /no classifier is trained yet|^counted\s+\d+$/m);
  const perImage = [...stdout.matchAll(/^\s+(\d+) cells\s+(\d+\.png)$/gm)].map((m) => m[2]).sort();
  if (/no classifier/.test(stdout)) assert.deepEqual(perImage, ['001.png', '003.png', '007.png', '011.png']);
});
