// Bad input of every kind the audit tried (issue 19) gets a clear BAD_USER_INPUT-class error that names
// the real cause, in JSON, without a stack trace, and writes nothing; limits hold for introspection too;
// a malformed subscription fails alone without closing the socket; an import says which files it left out.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, cpSync, symlinkSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { createClient } from 'graphql-ws';
import { getIntrospectionQuery } from 'graphql';
import { startStack, waitFor, FIXTURES, type Stack } from './helpers/stack.js';

let s: Stack;
let root: string;
let base: string;
const savedNodeEnv = process.env.NODE_ENV;

before(async () => {
  // Apollo adds stack traces unless NODE_ENV says production: the server must not, whatever it says.
  delete process.env.NODE_ENV;
  root = mkdtempSync(join(tmpdir(), 'leukograph-bad-'));
  cpSync(join(FIXTURES, 'acevedo20'), join(root, 'acevedo20'), { recursive: true });
  // A class-folder dataset with files an import must leave out, each for a reason it reports.
  const mixed = join(root, 'mixed');
  cpSync(join(FIXTURES, 'acevedo20'), mixed, { recursive: true });
  const cls = readdirSync(mixed)[0];
  writeFileSync(join(mixed, cls, 'drawing.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  writeFileSync(join(mixed, cls, 'anim.gif'), Buffer.from('GIF89a'));
  writeFileSync(join(mixed, cls, '.DS_Store'), 'x');
  writeFileSync(join(mixed, 'README.txt'), 'notes');
  const outside = mkdtempSync(join(tmpdir(), 'leukograph-outside-'));
  writeFileSync(join(outside, 'secret.jpg'), 'x');
  symlinkSync(join(outside, 'secret.jpg'), join(mixed, cls, 'escape.jpg'));
  symlinkSync(join(root, 'nowhere.jpg'), join(mixed, cls, 'dangling.jpg'));
  // labels.csv naming a file that is not there.
  mkdirSync(join(root, 'csv-missing'));
  cpSync(join(FIXTURES, 'acevedo20', cls), join(root, 'csv-missing'), { recursive: true });
  const present = readdirSync(join(root, 'csv-missing'))[0];
  writeFileSync(join(root, 'csv-missing', 'labels.csv'), `path,class\n${present},${cls}\nmissing-1.jpg,${cls}\n`);
  s = await startStack({ dataRoots: [root] });
  base = s.url.replace(/\/graphql$/, '');
});
after(async () => {
  if (savedNodeEnv !== undefined) process.env.NODE_ENV = savedNodeEnv;
  await s?.close();
});

/** Everything clients can see change: datasets (with description length), jobs, images. */
async function snapshot(): Promise<string> {
  const d = await s.ok(`{ datasets { name description classOverrides } jobs(limit: 500) { total } images(limit: 1) { total } }`);
  return JSON.stringify(d);
}

function noStack(text: string, what: string): void {
  assert.ok(!/\n\s+at |stacktrace|node_modules|\.js:\d+/.test(text), `${what} carries no stack trace: ${text.slice(0, 300)}`);
}

async function createDataset(name: string): Promise<string> {
  return (await s.ok(`mutation($i: CreateDatasetInput!) { createDataset(input: $i) { id } }`, { i: { name } })).createDataset.id;
}

test('bad JSON, bad URLs and unknown routes answer in JSON with a code and no stack trace', async () => {
  const cases: [string, RequestInit, number, string][] = [
    ['/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query": ' }, 400, 'BAD_REQUEST'],
    ['/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '[1, 2' }, 400, 'BAD_REQUEST'],
    ['/images/%E0%A4%A', {}, 400, 'BAD_REQUEST'],
    ['/nothing-here', {}, 404, 'NOT_FOUND'],
    ['/dashboard/js/none.js', {}, 404, 'NOT_FOUND'],
  ];
  for (const [path, init, status, code] of cases) {
    const res = await fetch(base + path, init);
    const text = await res.text();
    assert.equal(res.status, status, `${path}: ${text}`);
    assert.match(res.headers.get('content-type') ?? '', /json/, `${path} answers in JSON`);
    const body = JSON.parse(text);
    assert.equal(body.errors?.[0].extensions.code ?? body.error?.code, code, path);
    noStack(text, path);
  }
});

test('validation and resolver errors carry no stack trace with NODE_ENV unset', async () => {
  for (const q of ['{ nope }', '{ dataset(id: "not-a-uuid") { id } }', '{ dataset(id: 5) { id } }', 'query { datasets { name ']) {
    const res = await fetch(s.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: q }) });
    const text = await res.text();
    noStack(text, q);
    assert.ok(JSON.parse(text).errors[0].extensions.code !== 'INTERNAL_SERVER_ERROR', `${q}: ${text}`);
  }
});

test('classOverrides that are not cell type names are refused by name, and write nothing', async () => {
  const before = await snapshot();
  const objectValue = await s.gql(`mutation { createDataset(input: { name: "x", classOverrides: { foo: { a: 1 } } }) { id } }`);
  assert.equal(objectValue.errors?.[0].extensions?.code, 'BAD_USER_INPUT', JSON.stringify(objectValue));
  assert.match(objectValue.errors![0].message, /class override "foo": the value must be a cell type name/);
  const unknownType = await s.gql(`mutation { createDataset(input: { name: "y", classOverrides: { foo: "dragon" } }) { id } }`);
  assert.match(unknownType.errors![0].message, /"dragon" is not a cell type/);
  assert.equal(await snapshot(), before);
});

test('imports: no labels.csv, a labels.csv naming a missing file; each refused with its real cause, no job', async () => {
  const id = await createDataset('imports-refused');
  const before = await snapshot();
  const importInto = (path: string, layout?: string) =>
    s.gql(`mutation($i: ImportDatasetInput!) { importDataset(input: $i) { id } }`, { i: { datasetId: id, path, ...(layout ? { layout } : {}) } });
  const noCsv = await importInto('acevedo20', 'LABELS_CSV');
  assert.equal(noCsv.errors?.[0].extensions?.code, 'BAD_USER_INPUT', JSON.stringify(noCsv));
  assert.match(noCsv.errors![0].message, /needs a labels\.csv in the folder/);
  const missing = await importInto('csv-missing');
  assert.equal(missing.errors?.[0].extensions?.code, 'BAD_USER_INPUT');
  assert.match(missing.errors![0].message, /labels\.csv names 1 file that does not exist: "missing-1\.jpg" \(line 3\)/);
  assert.doesNotMatch(missing.errors![0].message, /link/);
  assert.equal(await snapshot(), before);
});

test('an import reports every file it left out and why', async () => {
  const id = await createDataset('mixed');
  const job = (await s.ok(`mutation($i: ImportDatasetInput!) { importDataset(input: $i) { id } }`, { i: { datasetId: id, path: 'mixed' } })).importDataset.id;
  const done = await waitFor(async () => {
    const j = (await s.ok(`query($id: ID!) { job(id: $id) { status result message } }`, { id: job })).job;
    return j.status === 'SUCCEEDED' || j.status === 'FAILED' ? j : null;
  }, 'the import to end');
  assert.equal(done.status, 'SUCCEEDED');
  const why = Object.fromEntries(done.result.skipped.map((f: { path: string; reason: string }) => [f.path.split('/').pop(), f.reason]));
  assert.match(why['drawing.svg'], /not an image type/);
  assert.match(why['anim.gif'], /not an image type/);
  assert.match(why['escape.jpg'], /outside the data root/);
  assert.match(why['dangling.jpg'], /does not exist/);
  assert.equal(why['.DS_Store'], 'hidden file');
  assert.match(why['README.txt'], /beside the class folders/);
  assert.equal(done.result.skippedCount, 6);
  assert.match(done.message, /6 files skipped/);
  assert.equal(done.result.created, 15, 'every real image is imported');
});

test('string inputs are bounded: a 20 MB description is refused and nothing is stored', async () => {
  const id = await createDataset('long-text');
  const before = await snapshot();
  const huge = 'x'.repeat(20 * 1024 * 1024);
  const r = await s.gql(`mutation($id: ID!, $i: UpdateDatasetInput!) { updateDataset(id: $id, input: $i) { id } }`, { id, i: { description: huge } });
  assert.equal(r.errors?.[0].extensions?.code, 'BAD_USER_INPUT');
  assert.match(r.errors![0].message, /variable \$i\.description is 20971520 characters long; the limit is 10000/);
  const literal = await s.gql(`mutation { updateDataset(id: "${id}", input: { description: "${'y'.repeat(20_000)}" }) { id } }`);
  assert.match(literal.errors?.[0].message ?? '', /argument input\.description is 20000 characters long/);
  assert.equal(await snapshot(), before);
});

test('introspection is counted: aliased and nested __schema are refused, the standard introspection query passes', async () => {
  const thousand = `{ ${Array.from({ length: 1000 }, (_, i) => `s${i}: __schema { types { name } }`).join(' ')} }`;
  const t0 = Date.now();
  const tokens = await s.gql(thousand);
  assert.equal(tokens.errors?.[0].extensions?.code, 'GRAPHQL_PARSE_FAILED');
  assert.match(tokens.errors![0].message, /more th\w+ \d+ tokens/);
  assert.equal(tokens.data, undefined, 'nothing is executed');
  assert.ok(Date.now() - t0 < 5000);
  const hundred = await s.gql(`{ ${Array.from({ length: 100 }, (_, i) => `s${i}: __schema { types { name } }`).join(' ')} }`);
  assert.equal(hundred.errors?.[0].extensions?.code, 'GRAPHQL_VALIDATION_FAILED');
  assert.match(hundred.errors![0].message, /Aliases limit of \d+ exceeded, found 100/);
  // Within the alias limit, each alias's lists multiply: 25 of these cost about 53,000.
  const wide = await s.gql(`{ ${Array.from({ length: 25 }, (_, i) => `s${i}: __schema { types { fields { args { name description } } } }`).join(' ')} }`);
  assert.equal(wide.errors?.[0].extensions?.code, 'BAD_USER_INPUT');
  assert.match(wide.errors![0].message, /estimated to cost \d+/);
  let nested = 'name';
  for (let i = 0; i < 5; i++) nested = `fields { type { ${nested} } }`;
  const n = await s.gql(`{ __schema { types { ${nested} } } }`);
  assert.equal(n.errors?.[0].extensions?.code, 'GRAPHQL_VALIDATION_FAILED');
  assert.match(n.errors![0].message, /introspection depth|estimated to cost/);
  const deepType = await s.gql(`{ __type(name: "Query") { ${'fields { type { ofType { '.repeat(4)}name${' } } }'.repeat(4)} } }`);
  assert.match(deepType.errors?.[0].message ?? '', /depth/i);
  const standard = await s.gql(getIntrospectionQuery());
  assert.equal(standard.errors, undefined, JSON.stringify(standard.errors));
  assert.ok(standard.data.__schema.types.length > 10);
});

test('the cost counts list sizes: a large page of nested lists is refused, a page of the same size alone passes', async () => {
  const fields = 'id url width height cellType rawLabel sourcePath sha256 format bytes';
  const big = await s.gql(`{ ${Array.from({ length: 10 }, (_, i) => `p${i}: images(limit: 500, offset: ${i * 500}) { items { ${fields} } }`).join(' ')} }`);
  assert.equal(big.errors?.[0].extensions?.code, 'BAD_USER_INPUT');
  assert.match(big.errors![0].message, /estimated to cost \d+ \(fields times list sizes\); the limit is 50000/);
  const page = await s.gql(`{ images(limit: 500) { items { ${fields} } total } }`);
  assert.equal(page.errors, undefined, JSON.stringify(page.errors));
});

test('a malformed subscription fails alone: the socket and the other subscriptions on it stay open', async () => {
  const d = await s.ok(`mutation { createDataset(input: { name: "ws-bad" }) { id } }`);
  // No engine picks it up while queued... unless one runs: cancel it so that its stream ends either way.
  await s.engine?.close();
  const job = await s.ok(`mutation($i: ImportDatasetInput!) { importDataset(input: $i) { id } }`, { i: { datasetId: d.createDataset.id, path: 'acevedo20' } });
  const jobId = job.importDataset.id;
  let closed: unknown = null;
  const client = createClient({ url: s.url.replace('http', 'ws'), webSocketImpl: WebSocket, retryAttempts: 0, on: { closed: (e) => (closed = e) } });
  const seen: string[] = [];
  const good = new Promise<void>((resolve, reject) => {
    client.subscribe({ query: `subscription { jobProgress(jobId: "${jobId}") { status } }` }, {
      next: (v) => void seen.push((v.data as any).jobProgress.status),
      error: reject,
      complete: resolve,
    });
  });
  await waitFor(async () => seen.length > 0, 'the first event');
  const badOnes = ['subscription { jobProgress(jobId: "x") { status ', 'subscription { nope }', `subscription { ${Array.from({ length: 100 }, (_, i) => `a${i}: jobProgress(jobId: "${jobId}") { status }`).join(' ')} }`];
  for (const query of badOnes) {
    const errors = await new Promise<any>((resolve) => {
      client.subscribe({ query }, { next: () => undefined, error: resolve, complete: () => resolve(null) });
    });
    assert.ok(Array.isArray(errors) && errors.length > 0, `${query.slice(0, 40)}: an error of its own (${JSON.stringify(errors)?.slice(0, 200)})`);
    assert.ok(['GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'BAD_USER_INPUT'].includes(errors[0].extensions?.code), JSON.stringify(errors[0]));
  }
  await s.ok(`mutation($id: ID!) { cancelJob(id: $id) { id } }`, { id: jobId });
  await good;
  assert.deepEqual(seen, ['QUEUED', 'CANCELLED'], 'the good subscription saw the job to its end');
  assert.equal(closed, null, 'the socket was not closed');
  await client.dispose();
});

test('an oversized WebSocket frame is refused at the frame, not stored', async () => {
  const sock = new WebSocket(s.url.replace('http', 'ws'), 'graphql-transport-ws');
  await new Promise((r) => sock.once('open', r));
  sock.send(JSON.stringify({ type: 'connection_init' }));
  const code = await new Promise<number>((resolve) => {
    sock.once('close', (c) => resolve(c));
    sock.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: '{ datasets { id } }', variables: { pad: 'x'.repeat(2 * 1024 * 1024) } } }));
  });
  assert.equal(code, 1009, 'closed as "message too big"');
});
