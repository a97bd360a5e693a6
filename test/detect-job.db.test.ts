// The detect and analyze jobs with the committed detector on real fixture images of two labs: cells
// are stored (box, mask, score, features) and streamed as they are found, each has a crop, and an image
// that cannot be decoded fails alone without stopping the job.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import WebSocket from 'ws';
import { createClient, type Client } from 'graphql-ws';
import { startStack, waitFor, REPO, type Stack } from './helpers/stack.js';

const MODEL = join(REPO, 'models/detector.json');
let s: Stack;
let ws: Client;
let datasetId: string;

before(async () => {
  s = await startStack();
  ws = createClient({ url: s.url.replace('http', 'ws'), webSocketImpl: WebSocket, retryAttempts: 0 });
  datasetId = (await s.ok(`mutation { createDataset(input: { name: "two-labs" }) { id } }`)).createDataset.id;
  for (const dir of ['zheng-ds2', 'bccd']) {
    const j = await s.ok(`mutation($i: ImportDatasetInput!) { importDataset(input: $i) { id } }`, { i: { datasetId, path: dir } });
    await waitFor(async () => (await s.ok(`query($id: ID!) { job(id: $id) { status } }`, { id: j.importDataset.id })).job.status === 'SUCCEEDED', 'import');
  }
  // An image whose file went bad after import: it must fail alone.
  const bad = join(mkdtempSync(join(tmpdir(), 'bad-')), 'gone-bad.png');
  writeFileSync(bad, 'no longer an image');
  const c = new pg.Client({ connectionString: s.databaseUrl });
  await c.connect();
  await c.query(
    `INSERT INTO images (dataset_id, source_path, storage_path, sha256, width, height, format, bytes) VALUES ($1, 'zz/gone-bad.png', $2, repeat('0', 64), 10, 10, 'png', 18)`,
    [datasetId, bad],
  );
  await c.end();
});
after(async () => {
  await ws?.dispose();
  await s?.close();
});

test('the bundled detector is registered, active and reported by the engine', { skip: !existsSync(MODEL) && 'no models/detector.json' }, async () => {
  const d = await s.ok(`{ models(kind: "detector") { id active checksum version } }`);
  assert.equal(d.models.length, 1);
  assert.equal(d.models[0].active, true);
});

test('detectCells stores and streams each cell; a bad image fails alone', { skip: !existsSync(MODEL) && 'no models/detector.json' }, async () => {
  const job = await s.ok(`mutation($i: DetectCellsInput!) { detectCells(input: $i) { id } }`, { i: { datasetId } });
  const jobId = job.detectCells.id;
  const streamed: any[] = [];
  const stream = new Promise<void>((resolve, reject) => {
    ws.subscribe({ query: `subscription($j: ID!) { jobCells(jobId: $j) { id imageId box score mask { size counts } cropUrl } }`, variables: { j: jobId } }, {
      next: (v: any) => streamed.push(v.data.jobCells), error: reject, complete: resolve,
    });
  });
  await stream;
  const j = await s.ok(`query($id: ID!) { job(id: $id) { status result } }`, { id: jobId });
  assert.equal(j.job.status, 'SUCCEEDED', JSON.stringify(j.job));
  assert.equal(j.job.result.failed, 1);
  assert.match(j.job.result.failures[0].reason, /not a JPEG, PNG|corrupt|unsupported/i);
  const page = await s.ok(`query($d: ID!) { cells(datasetId: $d, limit: 100) { total items { id imageId index box score mask { size counts } cutByBorder } } }`, { d: datasetId });
  assert.ok(page.cells.total >= 7, `cells in 7 good images: ${page.cells.total}`);
  assert.ok(streamed.length > 0, 'cells arrived over the subscription');
  const byImage = new Map<string, any[]>();
  for (const c of page.cells.items) byImage.set(c.imageId, [...(byImage.get(c.imageId) ?? []), c]);
  assert.equal(byImage.size, 7, 'every good image has a cell');
  for (const c of page.cells.items) {
    assert.equal(c.box.length, 4);
    assert.ok(c.score >= 0.5 && c.score <= 1);
    const [h, w] = c.mask.size;
    assert.equal(c.mask.counts.reduce((a: number, b: number) => a + b, 0), h * w, 'RLE covers the image');
    const [x1, y1, x2, y2] = c.box;
    assert.equal(c.cutByBorder, x1 < 2 || y1 < 2 || x2 > w - 2 || y2 > h - 2);
  }
  const crop = await fetch(streamed[0].cropUrl);
  assert.equal(crop.status, 200);
  assert.equal(crop.headers.get('content-type'), 'image/png');
  // A rerun finds every image done and writes nothing.
  const again = await s.ok(`mutation($i: DetectCellsInput!) { detectCells(input: $i) { id } }`, { i: { datasetId } });
  const r2 = await waitFor(async () => {
    const d = await s.ok(`query($id: ID!) { job(id: $id) { status result } }`, { id: again.detectCells.id });
    return d.job.status === 'SUCCEEDED' ? d.job : null;
  }, 'second detect');
  assert.equal(r2.result.cells, 0);
  assert.equal((await s.ok(`query($d: ID!) { cells(datasetId: $d) { total } }`, { d: datasetId })).cells.total, page.cells.total);
  const status = await s.ok(`{ engineStatus { runtimes { name device } models { kind } } }`);
  assert.ok(status.engineStatus[0].runtimes.some((r: any) => r.name === 'onnxruntime' && ['cpu', 'webgpu'].includes(r.device)));
  assert.ok(status.engineStatus[0].models.some((m: any) => m.kind === 'detector'));
});
