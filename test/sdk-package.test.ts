// The SDK as a tool outside this repository gets it: `npm pack` in client-sdk/, the tarball installed into
// an empty project under the temporary folder with only the SDK's declared peers (offline: the peers are
// linked from this repository's node_modules, so no registry is needed), typed documents generated for the
// tool's own operation against the package's schema.graphql, the tool compiled with tsc and run against a
// server started here. Its differential count must be the server's typed result and the dashboard's.
// Not a *.db.test: it runs once, on the embedded PostgreSQL (packing and installing twice would show nothing new).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { generate } from '@graphql-codegen/cli';
import * as clientPreset from '@graphql-codegen/client-preset';
import { smallPng } from './helpers/synthetic-images.js';
import { startStack, waitFor, FIXTURES, REPO, type Stack } from './helpers/stack.js';

const SDK = join(REPO, 'client-sdk');
const TOOLS = join(SDK, 'test/downstream');
const TOKEN = 'package-test-token';
const noDetector = !existsSync(join(REPO, 'models/detector.json')) && 'no models/detector.json: no cells can be found';

let s: Stack;
let work: string;
let tarball: string;
let packed: { files: { path: string }[]; version: string; name: string };

function run(cmd: string, args: string[], cwd: string, timeout = 180_000): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) =>
    execFile(cmd, args, { cwd, timeout, maxBuffer: 16 << 20, env: { ...process.env, npm_config_update_notifier: 'false' } }, (err, stdout, stderr) =>
      err ? reject(new Error(`${cmd} ${args.join(' ')} (in ${cwd}): ${err.message}\n${stdout}\n${stderr}`)) : resolve({ stdout, stderr })));
}

/** An empty project with the tarball and the given peers, installed offline; the tool's sources copied in. */
async function scratchProject(name: string, peers: string[]): Promise<string> {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  const link = (p: string) => `file:${join(REPO, 'node_modules', p)}`;
  const dependencies: Record<string, string> = { '@leukograph/client': `file:${tarball}` };
  // The SDK's own dependency (types only) is linked too, so that nothing comes from a registry.
  for (const p of [...peers, '@graphql-typed-document-node/core']) dependencies[p] = link(p);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `scratch-${name}`, private: true, type: 'module', dependencies }, null, 2));
  await run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', '--install-links=false'], dir);
  cpSync(join(TOOLS, name), dir, { recursive: true });
  return dir;
}

/** tsc from this repository; Node's types (a tool's devDependency) from here too. */
const tsc = (dir: string) =>
  run(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', join(dir, 'tsconfig.json'), '--typeRoots', join(REPO, 'node_modules/@types')], dir);

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'leukograph-sdk-package-'));
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', work], SDK);
  [packed] = JSON.parse(stdout.slice(stdout.indexOf('[')));
  tarball = join(work, (packed as unknown as { filename: string }).filename);
  s = await startStack({ token: TOKEN });
});

after(async () => {
  await s?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('the packed SDK holds its build, schema and README, not its sources; its version speaks the server\'s schema', async () => {
  const files = packed.files.map((f) => f.path).sort();
  for (const f of ['package.json', 'README.md', 'schema.graphql', 'dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/differential-count.js', 'dist/src/generated/graphql.js']) {
    assert.ok(files.includes(f), `${f} is in the tarball: ${files.join(' ')}`);
  }
  assert.deepEqual(files.filter((f) => /^(src|examples|test)\/|codegen\.ts|tsconfig/.test(f)), [], 'no sources, examples, tests or build configs');
  assert.equal(packed.name, '@leukograph/client');
  const pkg = JSON.parse(readFileSync(join(SDK, 'package.json'), 'utf8'));
  assert.equal(pkg.private, undefined, 'publishable');
  const { serverVersion } = await s.ok(`{ serverVersion { server schema } }`);
  assert.equal(packed.version.split('.').slice(0, 2).join('.'), serverVersion.schema.split('.').slice(0, 2).join('.'), 'the SDK\'s major.minor is the schema\'s');
});

test('browser-style: installed without ws and compiled without Node types, it imports, uploads a Blob and says why it cannot subscribe', { skip: noDetector }, async () => {
  const dir = await scratchProject('browser', ['graphql', 'graphql-ws']);
  assert.ok(!existsSync(join(dir, 'node_modules/ws')), 'ws is not installed');
  await tsc(dir);
  // A small image on the command line (a page would take a file input): the analysis finds no cell in it.
  const png = (await smallPng()).toString('base64');
  const { stdout } = await run(process.execPath, [join(dir, 'dist/tool.js'), s.url, TOKEN, png], dir, 120_000);
  const out = JSON.parse(stdout.trim().split('\n').at(-1)!);
  assert.equal(out.compatible, true);
  assert.equal(out.format, 'png');
  assert.match(out.sourcePath, /\/field 1\.png$/);
  // Node 20 has no WebSocket of its own; Node 22 does, and then the subscription works without ws.
  assert.equal(out.subscription, typeof globalThis.WebSocket === 'function' ? 'ok SUCCEEDED' : 'NO_WEBSOCKET', JSON.stringify(out));
  assert.equal(out.job, 'SUCCEEDED');
});

test('a Node tool with ws: uploads a smear, streams its cells and prints the count the server and the dashboard give', { skip: noDetector }, async (t) => {
  // A classifier to count with: a morphology forest on the Acevedo-20 fixture (15 cells), flags at the default 0.4.
  const jobOf = async (mutation: string, type: string, input: Record<string, unknown>) => {
    const id = (await s.ok(`mutation($i: ${type}!) { ${mutation}(input: $i) { id } }`, { i: input }))[mutation].id;
    const j = await waitFor(async () => {
      const r = (await s.ok(`query($id: ID!) { job(id: $id) { status error } }`, { id })).job;
      return r.status !== 'QUEUED' && r.status !== 'RUNNING' ? r : null;
    }, mutation, 180_000, 250);
    assert.equal(j.status, 'SUCCEEDED', `${mutation}: ${j.error}`);
  };
  const source = (await s.ok(`mutation { createDataset(input: { name: "acevedo20" }) { id } }`)).createDataset.id;
  await jobOf('importDataset', 'ImportDatasetInput', { datasetId: source, path: 'acevedo20' });
  await jobOf('detectCells', 'DetectCellsInput', { datasetId: source, topOnly: true });
  await jobOf('trainClassifier', 'TrainClassifierInput', { datasetIds: [source], features: 'MORPHOLOGY', testFraction: 0 });

  const dir = await scratchProject('node', ['graphql', 'graphql-ws', 'ws']);
  // The tool brings its own operation: typed documents from the package's schema (graphql-codegen, client preset).
  await generate({
    cwd: dir, silent: true, schema: 'node_modules/@leukograph/client/schema.graphql', documents: ['*.graphql'], emitLegacyCommonJSImports: false,
    // The preset object itself: the scratch project has no codegen packages to resolve a preset name from.
    generates: { 'gql/': { preset: clientPreset.preset, presetConfig: { fragmentMasking: false }, config: { useTypeImports: true, enumsAsTypes: true, scalars: { ID: 'string', DateTimeISO: 'string', JSONObject: 'Record<string, unknown>' } } } },
  }, true);
  await tsc(dir); // type-errors.ts compiles only because each wrong call is the error it expects

  const smear = ['BloodImage_00000.jpg', 'BloodImage_00009.jpg', 'BloodImage_00020.jpg'].map((f) => join(FIXTURES, 'bccd/images', f));
  const { stdout } = await run(process.execPath, [join(dir, 'dist/tool.js'), s.url, TOKEN, ...smear], dir, 240_000);
  const out = JSON.parse(stdout.trim().split('\n').at(-1)!);
  assert.equal(out.server.compatible, true);
  assert.equal(out.status, 'SUCCEEDED');
  assert.ok(out.cells >= 3, `cells: ${out.cells}`);
  assert.equal(out.masks, out.cells, 'its own operation read every mask');
  assert.deepEqual(out.recount, out.count, 'the stream\'s count is the count of what it yielded, with the verdicts the job left (stream.revised)');
  assert.equal(out.count.cells, out.cells);
  t.diagnostic(`the tool's count: ${JSON.stringify(out.count)}`);
  assert.ok(out.count.counted + out.count.flagged > 0, `a classifier was active: ${JSON.stringify(out.count)}`);

  // The server's typed result of the same job.
  const { job } = await s.ok(`query($id: ID!) { job(id: $id) { typedResult { ... on AnalyzeJobResult { cells differential {
    cells counted byClass { label count fraction } flagged flaggedByReason { reason count } unclassified cutByBorder } } } } }`, { id: out.jobId });
  assert.deepEqual(out.count, job.typedResult.differential);
  assert.equal(job.typedResult.cells, out.cells);

  // The dashboard's: the module the page loads, over the cells it reads for the job (its CELL_FIELDS).
  const js = await fetch(new URL('/dashboard/js/differential-count.js', s.url));
  assert.equal(js.status, 200);
  const file = join(work, 'dashboard-differential-count.mjs');
  writeFileSync(file, await js.text());
  const dashboard = await import(pathToFileURL(file).href);
  const page = await s.ok(`query($id: ID!) { cells(jobId: $id, limit: 500) { items { id cutByBorder prediction { label flagged flagReason reason } } } }`, { id: out.jobId });
  const tally = new dashboard.DifferentialTally();
  for (const c of page.cells.items) tally.add(c);
  assert.deepEqual(tally.result(), out.count);
});
