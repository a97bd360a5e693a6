// The API end to end against a real PostgreSQL (embedded, or a server via LEUKOGRAPH_TEST_SERVER_URL):
// imports in every layout, events over graphql-ws, cancellation, and bad inputs that write nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, cpSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { createClient, type Client } from 'graphql-ws';
import { startStack, waitFor, throttle, FIXTURES, type Stack } from './helpers/stack.js';
import { syntheticCellTiff, pngDeclaring, smallPng } from './helpers/synthetic-images.js';

let s: Stack;
let ws: Client;
let root: string;

before(async () => {
  // A data root of our own: the fixtures, a Matek-19 layout, and a folder with bad files in it.
  root = mkdtempSync(join(tmpdir(), 'leukograph-root-'));
  cpSync(FIXTURES, root, { recursive: true });
  for (const code of ['NGS', 'LYT', 'MON', 'EOS', 'BAS']) {
    mkdirSync(join(root, 'matek', code), { recursive: true });
    for (let i = 0; i < 2; i++) writeFileSync(join(root, 'matek', code, `${code}_${i}.tiff`), await syntheticCellTiff(i + code.charCodeAt(0)));
  }
  const mixed = join(root, 'mixed', 'neutrophil');
  mkdirSync(mixed, { recursive: true });
  const good = readdirSync(join(root, 'acevedo20/neutrophil'))[0];
  cpSync(join(root, 'acevedo20/neutrophil', good), join(mixed, 'good.jpg'));
  const jpg = readFileSync(join(mixed, 'good.jpg'));
  writeFileSync(join(mixed, 'truncated.jpg'), jpg.subarray(0, jpg.length >> 1));
  writeFileSync(join(mixed, 'empty.jpg'), Buffer.alloc(0));
  writeFileSync(join(mixed, 'notes.jpg'), 'not an image');
  writeFileSync(join(mixed, 'huge.png'), pngDeclaring(100_000, 100_000, await smallPng()));
  s = await startStack({ dataRoots: [root] });
  ws = createClient({ url: s.url.replace('http', 'ws'), webSocketImpl: WebSocket, lazy: true, retryAttempts: 0 });
});

after(async () => {
  await ws?.dispose();
  await s?.close();
});

async function createDataset(name: string): Promise<string> {
  const d = await s.ok(`mutation($i: CreateDatasetInput!) { createDataset(input: $i) { id } }`, { i: { name } });
  return d.createDataset.id;
}

async function importInto(datasetId: string, path: string, extra: Record<string, unknown> = {}, throttleMs?: number): Promise<string> {
  const d = await s.ok(`mutation($i: ImportDatasetInput!) { importDataset(input: $i) { id status kind type } }`, { i: { datasetId, path, ...extra } }, throttleMs ? throttle(throttleMs) : {});
  assert.equal(d.importDataset.kind, 'import', 'the deprecated string kind stays for a version');
  assert.equal(d.importDataset.type, 'IMPORT');
  return d.importDataset.id;
}

async function finished(jobId: string): Promise<any> {
  return waitFor(async () => {
    const d = await s.ok(`query($id: ID!) { job(id: $id) { id status done total result error attempts message } }`, { id: jobId });
    return ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(d.job.status) ? d.job : null;
  }, `job ${jobId} to end`);
}

function subscribe<T>(query: string, variables: Record<string, unknown>): { events: T[]; done: Promise<void> } {
  const events: T[] = [];
  const done = new Promise<void>((resolve, reject) => {
    ws.subscribe<T>({ query, variables }, { next: (v) => { if (v.errors) reject(new Error(JSON.stringify(v.errors))); else events.push(v.data as T); }, error: reject, complete: resolve });
  });
  return { events, done };
}

test('{ __typename } answers', async () => {
  assert.deepEqual(await s.ok('{ __typename }'), { __typename: 'Query' });
});

test('imports Acevedo-20 class folders, with events arriving over graphql-ws', async () => {
  const id = await createDataset('acevedo-fixture');
  // Subscribe before the job exists is impossible (no id yet); a subscription opened right after the
  // mutation still sees the job from its current state to its end, which is the contract under test.
  const jobId = await importInto(id, 'acevedo20', { layout: 'CLASS_FOLDERS' }, 20);
  const progress = subscribe<any>(`subscription($j: ID!) { jobProgress(jobId: $j) { jobId status done total progress message } }`, { j: jobId });
  const items = subscribe<any>(`subscription($j: ID!) { jobItems(jobId: $j) { itemKind itemId index ok } }`, { j: jobId });
  await Promise.all([progress.done, items.done]);
  const statuses = progress.events.map((e) => e.jobProgress.status);
  assert.equal(statuses.at(-1), 'SUCCEEDED', `last event: ${JSON.stringify(progress.events.at(-1))}`);
  assert.ok(progress.events.length >= 3, `progress events: ${progress.events.length}`);
  assert.equal(progress.events.at(-1).jobProgress.done, 15);
  assert.ok(items.events.length > 0 && items.events.every((e) => e.jobItems.itemKind === 'image' && e.jobItems.ok));
  const d = await s.ok(`query($id: ID!) { dataset(id: $id) { layout stats { images labelled byType { cellType count } } } }`, { id });
  assert.equal(d.dataset.layout, 'class-folders');
  assert.equal(d.dataset.stats.images, 15);
  assert.equal(d.dataset.stats.labelled, 15);
  const imgs = await s.ok(`query($id: ID!) { images(datasetId: $id, limit: 100) { total items { rawLabel subtype cellType label(classMap: COMMON5) width height format url } } }`, { id });
  assert.equal(imgs.images.total, 15);
  for (const im of imgs.images.items) {
    assert.equal(im.label, im.rawLabel, 'Acevedo folder names are the common-5 classes');
    assert.equal(im.format, 'jpeg');
    assert.ok(im.width >= 360 && im.width <= 370 && im.height >= 363 && im.height <= 373, `${im.width}x${im.height}`);
  }
  const bytes = await fetch(imgs.images.items[0].url);
  assert.equal(bytes.headers.get('content-type'), 'image/jpeg');
});

test('imports labels.csv layouts (Zheng DS2, BCCD) and Matek-19 code folders', async () => {
  const z = await createDataset('zheng-fixture');
  const b = await createDataset('bccd-fixture');
  const m = await createDataset('matek-synthetic');
  const jobs = await Promise.all([importInto(z, 'zheng-ds2'), importInto(b, join(root, 'bccd')), importInto(m, 'matek', { layout: 'MATEK' })]);
  for (const j of jobs) assert.equal((await finished(j)).status, 'SUCCEEDED');
  const q = `query($id: ID!) { dataset(id: $id) { layout } images(datasetId: $id, limit: 50) { total items { rawLabel cellType label(classMap: PAPER13) format width } } }`;
  const zr = await s.ok(q, { id: z });
  assert.equal(zr.dataset.layout, 'labels-csv');
  assert.deepEqual(zr.images.items.map((i: any) => i.rawLabel).sort(), ['eosinophil', 'lymphocyte', 'monocyte', 'neutrophil']);
  const br = await s.ok(q, { id: b });
  assert.equal(br.images.total, 3);
  const mr = await s.ok(q, { id: m });
  assert.equal(mr.dataset.layout, 'matek');
  assert.equal(mr.images.total, 10);
  const ngs = mr.images.items.find((i: any) => i.rawLabel === 'NGS');
  assert.deepEqual([ngs.cellType, ngs.label, ngs.format, ngs.width], ['neutrophil_segmented', 'neutrophil_segmented', 'tiff', 400]);
});

test('a re-import adds nothing twice', async () => {
  const id = await createDataset('reimport');
  assert.equal((await finished(await importInto(id, 'zheng-ds2'))).status, 'SUCCEEDED');
  const again = await finished(await importInto(id, 'zheng-ds2'));
  assert.deepEqual([again.result.created, again.result.existing], [0, 4]);
  const d = await s.ok(`query($id: ID!) { images(datasetId: $id) { total } }`, { id });
  assert.equal(d.images.total, 4);
});

test('bad files in an import fail alone, each with its reason', async () => {
  const id = await createDataset('mixed');
  const job = await finished(await importInto(id, 'mixed'));
  assert.equal(job.status, 'SUCCEEDED');
  assert.equal(job.result.created, 1);
  assert.equal(job.result.failed, 4);
  const reasons = Object.fromEntries(job.result.failures.map((f: any) => [f.path.split('/').pop(), f.reason]));
  assert.match(reasons['empty.jpg'], /empty/);
  assert.match(reasons['notes.jpg'], /not a JPEG, PNG, TIFF or BMP/);
  assert.match(reasons['truncated.jpg'], /truncated|corrupt/i);
  assert.match(reasons['huge.png'], /100000x100000/);
});

test('a running job can be cancelled and keeps what it wrote', async () => {
  const id = await createDataset('cancel-me');
  const jobId = await importInto(id, 'acevedo20', {}, 400);
  await waitFor(async () => (await s.ok(`query($id: ID!) { job(id: $id) { done } }`, { id: jobId })).job.done >= 2, 'two images imported');
  const c = await s.ok(`mutation($id: ID!) { cancelJob(id: $id) { id cancelRequested } }`, { id: jobId });
  assert.equal(c.cancelJob.cancelRequested, true);
  const job = await finished(jobId);
  assert.equal(job.status, 'CANCELLED');
  const n = (await s.ok(`query($id: ID!) { images(datasetId: $id) { total } }`, { id })).images.total;
  assert.ok(n >= 2 && n < 15, `images kept: ${n}`);
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal((await s.ok(`query($id: ID!) { images(datasetId: $id) { total } }`, { id })).images.total, n, 'nothing written after cancel');
  const again = await s.gql(`mutation($id: ID!) { cancelJob(id: $id) { id } }`, { id: jobId });
  assert.equal(again.errors?.[0].extensions?.code, 'CONFLICT');
});

test('uploads: a good image is stored once; bad ones are refused with a reason and write nothing', async () => {
  const id = await createDataset('uploads');
  const jpg = readFileSync(join(root, 'mixed/neutrophil/good.jpg'));
  const up = (filename: string, data: Buffer) =>
    s.gql(`mutation($i: UploadImageInput!) { uploadImage(input: $i) { created image { id format label } } }`, {
      i: { datasetId: id, filename, contentBase64: data.toString('base64'), label: 'neutrophil' },
    });
  const first = await up('cell.jpg', jpg);
  assert.equal(first.data?.uploadImage.created, true);
  assert.equal(first.data?.uploadImage.image.label, 'neutrophil');
  assert.equal((await up('cell.jpg', jpg)).data?.uploadImage.created, false);
  const bad: [string, Buffer, RegExp][] = [
    ['zero.jpg', Buffer.alloc(0), /empty/],
    ['text.jpg', Buffer.from('hello'), /not a JPEG/],
    ['cut.jpg', jpg.subarray(0, jpg.length >> 1), /truncated|corrupt/i],
    ['huge.png', pngDeclaring(100_000, 100_000, await smallPng()), /100000x100000/],
  ];
  for (const [name, data, re] of bad) {
    const r = await up(name, data);
    assert.equal(r.errors?.[0].extensions?.code, 'BAD_USER_INPUT', name);
    assert.match(r.errors![0].message, re, name);
  }
  // The HTTP endpoint: same checks, raw bytes.
  const raw = await fetch(`${s.url.replace('/graphql', '')}/upload?datasetId=${id}&filename=raw.jpg`, { method: 'POST', body: new Uint8Array(Buffer.from('nope')) });
  assert.equal(raw.status, 400);
  const ok = await fetch(`${s.url.replace('/graphql', '')}/upload?datasetId=${id}&filename=other.png`, { method: 'POST', body: new Uint8Array(await smallPng()) });
  assert.equal(ok.status, 201);
  assert.equal((await s.ok(`query($id: ID!) { images(datasetId: $id) { total } }`, { id })).images.total, 2);
});

test('uploads as a browser form (multipart/form-data): one file as the raw body answers, several each stored or refused alone', async () => {
  const id = await createDataset('form-uploads');
  const base = s.url.replace('/graphql', '');
  const jpg = readFileSync(join(root, 'mixed/neutrophil/good.jpg'));
  const form = (files: [string, Buffer][], fields: Record<string, string> = { datasetId: id }) => {
    const f = new FormData();
    for (const [k, v] of Object.entries(fields)) f.set(k, v);
    for (const [name, data] of files) f.append('file', new Blob([new Uint8Array(data)]), name);
    return fetch(`${base}/upload`, { method: 'POST', body: f });
  };
  const one = await form([['cell one.jpg', jpg]], { datasetId: id, label: 'neutrophil' });
  assert.equal(one.status, 201);
  const body = await one.json();
  assert.deepEqual([body.created, body.image.format, body.image.rawLabel, body.image.canonicalType], [true, 'jpeg', 'neutrophil', 'neutrophil']);
  assert.match(body.image.sourcePath, /\/cell one\.jpg$/);
  // Several files: the bad one is refused with its reason, the others stored; the same image again is not new.
  const many = await form([['a.png', await smallPng()], ['notes.jpg', Buffer.from('not an image')], ['again.jpg', jpg]]);
  assert.equal(many.status, 200);
  const { uploads } = await many.json();
  assert.deepEqual(uploads.map((u: any) => [u.filename, u.created ?? null, u.error?.code ?? null]), [['a.png', true, null], ['notes.jpg', null, 'BAD_USER_INPUT'], ['again.jpg', true, null]]);
  assert.match(uploads[1].error.message, /not a JPEG/);
  const allBad = await form([['x.jpg', Buffer.from('x')], ['y.jpg', Buffer.alloc(0)]]);
  assert.equal(allBad.status, 400);
  // A form without a file, without a dataset, or with a file over the size limit: a clear refusal.
  const none = await form([]);
  assert.equal(none.status, 400);
  assert.match((await none.json()).error.message, /no file/);
  const noDataset = await form([['a.png', await smallPng()]], {});
  assert.equal(noDataset.status, 400);
  assert.match((await noDataset.json()).error.message, /datasetId/);
  const huge = await form([['big.png', Buffer.alloc(s.cfg.maxImageBytes + 1)]]);
  assert.equal(huge.status, 413);
  assert.match((await huge.json()).error.message, /over the limit/);
  assert.equal((await s.ok(`query($id: ID!) { images(datasetId: $id) { total } }`, { id })).images.total, 3, 'cell one, a.png, again.jpg');
  assert.deepEqual(readdirSync(join(s.cfg.dataDir, 'upload-forms')), [], 'the forms\' files are removed once read, refused ones too');
});

test('refused requests: path outside the roots, unknown and malformed ids, over-deep queries', async () => {
  const id = await createDataset('refusals');
  const outside = await s.gql(`mutation($i: ImportDatasetInput!) { importDataset(input: $i) { id } }`, { i: { datasetId: id, path: '/etc' } });
  assert.equal(outside.errors?.[0].extensions?.code, 'BAD_USER_INPUT');
  assert.match(outside.errors![0].message, /outside the data roots/);
  const dots = await s.gql(`mutation($i: ImportDatasetInput!) { importDataset(input: $i) { id } }`, { i: { datasetId: id, path: 'acevedo20/../../' } });
  assert.match(dots.errors![0].message, /"\.\."/);
  const jobs = await s.ok(`{ jobs(limit: 500) { items { params } } }`);
  assert.ok(!jobs.jobs.items.some((j: any) => j.params.datasetId === id), 'a refused import creates no job');
  // A lookup of an id that names nothing is null, and the rest of the answer stands.
  const unknown = await s.gql(`{ dataset(id: "00000000-0000-4000-8000-000000000000") { id } datasets { id } }`);
  assert.equal(unknown.errors, undefined);
  assert.equal(unknown.data.dataset, null);
  assert.ok(unknown.data.datasets.some((d: any) => d.id === id));
  const malformed = await s.gql(`{ job(id: "42; DROP TABLE jobs") { id } }`);
  assert.equal(malformed.errors?.[0].extensions?.code, 'BAD_USER_INPUT');
  const deep = await s.gql(`{ datasets { stats { byType { cellType } } } ${'a: datasets { stats { byType { count } } } '} }`.replace('{ datasets', '{ d: datasets'));
  assert.equal(deep.errors, undefined, 'a normal query passes the limits');
  let q = 'cellType';
  for (let i = 0; i < 12; i++) q = `byType { ${q} }`;
  const tooDeep = await s.gql(`{ datasets { stats { ${q} } } }`);
  assert.equal(tooDeep.errors?.[0].extensions?.code, 'GRAPHQL_VALIDATION_FAILED');
  const wide = await s.gql(`{ ${Array.from({ length: 600 }, (_, i) => `a${i}: __typename`).join(' ')} datasets { ${Array.from({ length: 600 }, (_, i) => `n${i}: name`).join(' ')} } }`);
  assert.equal(wide.errors?.[0].extensions?.code, 'GRAPHQL_VALIDATION_FAILED');
  assert.match(wide.errors?.[0].message ?? '', /Aliases limit of \d+ exceeded/);
});

test('a subscription that cannot start says why, with the same codes as over HTTP', async () => {
  const unknown = subscribe<any>(`subscription { jobProgress(jobId: "00000000-0000-4000-8000-000000000000") { status } }`, {});
  await assert.rejects(unknown.done, (err: Error) => /NOT_FOUND/.test(err.message) && /job 00000000-0000-4000-8000-000000000000 not found/.test(err.message));
  const malformed = subscribe<any>(`subscription { jobItems(jobId: "nope") { itemId } }`, {});
  await assert.rejects(malformed.done, /BAD_USER_INPUT/);
});

test('engine status names the engine, its runtimes and memory', async () => {
  const d = await s.ok(`{ engineStatus { id alive pid memory { rssMb heapUsedMb } runtimes { name backend device } currentJobs } }`);
  assert.ok(d.engineStatus.length >= 1);
  assert.equal(d.engineStatus[0].alive, true);
  assert.ok(d.engineStatus[0].memory.rssMb > 10);
});
