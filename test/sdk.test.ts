// The SDK's generated code is current: client-sdk/src/operations/ has an operation for every root field of
// the schema the server emits, and client-sdk/src/generated/ is what graphql-codegen makes of them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSchema, parse, visit, type GraphQLObjectType } from 'graphql';
import { generate } from '@graphql-codegen/cli';
import codegenConfig from '../client-sdk/codegen.js';
import { safeFilename } from '../client-sdk/src/upload.js';
import { errorFromServer, BadInputError, NotFoundError, ServerError, UnauthenticatedError, ConflictError, NetworkError, JobFailedError } from '../client-sdk/src/errors.js';
import { analyzeCells, type Cell } from '../client-sdk/src/cell-stream.js';
import type { LeukographClient } from '../client-sdk/src/client.js';
import type { JobFieldsFragment } from '../client-sdk/src/generated/graphql.js';

const SDK = fileURLToPath(new URL('../../client-sdk/', import.meta.url));
const OPERATIONS = join(SDK, 'src/operations');

test('every query, mutation and subscription of schema.graphql has a typed operation in client-sdk/src/operations', () => {
  const schema = buildSchema(readFileSync(join(SDK, 'schema.graphql'), 'utf8'));
  const used = new Set<string>();
  for (const file of readdirSync(OPERATIONS).filter((f) => f.endsWith('.graphql'))) {
    visit(parse(readFileSync(join(OPERATIONS, file), 'utf8')), {
      OperationDefinition(op) {
        const root = op.operation[0].toUpperCase() + op.operation.slice(1);
        for (const sel of op.selectionSet.selections) if (sel.kind === 'Field') used.add(`${root}.${sel.name.value}`);
      },
    });
  }
  const roots = [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()].filter((t): t is GraphQLObjectType => !!t);
  const missing = roots.flatMap((t) => Object.keys(t.getFields()).map((f) => `${t.name}.${f}`)).filter((f) => !used.has(f));
  assert.deepEqual(missing, [], 'add an operation for each to client-sdk/src/operations/*.graphql, then `npm run generate` in client-sdk/');
});

test('client-sdk/src/generated is what graphql-codegen makes of schema.graphql and the operations', async () => {
  const outputs: { filename: string; content: string }[] = await generate({ ...codegenConfig, cwd: SDK, silent: true }, false);
  assert.ok(outputs.length >= 3, `outputs: ${outputs.map((o) => o.filename)}`);
  for (const o of outputs) {
    const committed = readFileSync(join(SDK, o.filename), 'utf8');
    assert.ok(committed === o.content, `client-sdk/${o.filename} is stale: run \`npm run generate\` in client-sdk/`);
  }
});

test('typed errors are chosen by extensions.code', () => {
  const of = (code?: string) => errorFromServer([{ message: 'm', path: ['x'], extensions: code ? { code } : {} }]);
  assert.ok(of('NOT_FOUND') instanceof NotFoundError);
  assert.ok(of('BAD_USER_INPUT') instanceof BadInputError);
  assert.ok(of('GRAPHQL_VALIDATION_FAILED') instanceof BadInputError);
  assert.ok(of('UNAUTHENTICATED') instanceof UnauthenticatedError);
  assert.ok(of('CONFLICT') instanceof ConflictError);
  assert.ok(of('INTERNAL_SERVER_ERROR') instanceof ServerError);
  assert.ok(of('SOMETHING_NEW') instanceof ServerError);
  const e = of();
  assert.deepEqual([e.code, e.path, e.name], ['INTERNAL_SERVER_ERROR', ['x'], 'ServerError']);
});

test('upload file names are made acceptable to the server', () => {
  assert.equal(safeFilename('/smears/patient 7/001.png'), '001.png');
  assert.equal(safeFilename('Zelle—Ä#1.JPG'), 'Zelle___1.JPG');
  assert.equal(safeFilename('.hidden.jpg'), '_hidden.jpg');
  assert.equal(safeFilename(''), 'image');
});

// The analyze flow against a scripted client: what the live stream missed is caught up from the
// cells query when the job ends, and nothing is yielded twice. `streamed` and `stored` give cells a
// prediction (none otherwise): the verdict a cell streams with, and the one the cells query finds once
// the job has ended (which the job may have rewritten).
type Prediction = { label: string | null; flagged: boolean; flagReason?: string | null; reason?: string | null };
type Scripted = {
  live: string[]; liveError?: Error; jobCells: string[]; imageCells?: { id: string; detectorId: string }[]; status?: string;
  streamed?: Record<string, Prediction>; stored?: Record<string, Prediction>;
};

function scriptedClient(s: Scripted) {
  const cell = (id: string, detectorId = 'det', prediction: Prediction | null = null) =>
    ({ id, image: { id: 'img' }, detector: { id: detectorId }, cutByBorder: false, prediction }) as unknown as Cell;
  const job = { id: 'job', status: 'RUNNING', error: null, result: null } as unknown as JobFieldsFragment;
  const calls: string[] = [];
  const client = {
    ensureDataset: async (name: string) => (calls.push(`ensureDataset ${name}`), { id: 'ds' }),
    uploadImage: async (datasetId: string) => (calls.push(`upload ${datasetId}`), { image: { id: 'img' }, created: true }),
    mutate: async () => (calls.push('analyze'), { analyzeImages: job }),
    subscribe: () =>
      (async function* () {
        calls.push('subscribe');
        for (const id of s.live) yield { jobCells: cell(id, 'det', s.streamed?.[id] ?? null) };
        if (s.liveError) throw s.liveError;
      })(),
    waitForJob: async () => ({ ...job, status: s.status ?? 'SUCCEEDED', error: s.status ? 'boom' : null, result: { detectorId: 'det' } }),
    query: async (_doc: unknown, v: { jobId?: string; imageId?: string; offset: number }) => {
      const stored = (id: string) => s.stored?.[id] ?? null;
      const items = v.offset > 0 ? [] : v.jobId ? s.jobCells.map((id) => cell(id, 'det', stored(id))) : (s.imageCells ?? []).map((c) => cell(c.id, c.detectorId, stored(c.id)));
      return { cells: { total: items.length, items } };
    },
  };
  return { client: client as unknown as LeukographClient, calls };
}

async function ids(stream: AsyncIterable<Cell>): Promise<string[]> {
  const out: string[] = [];
  for await (const c of stream) out.push(c.id);
  return out;
}

test('analyzeImages: cells the live stream missed come from the cells query, each once, in the order seen', async () => {
  const { client, calls } = scriptedClient({ live: ['a', 'b', 'b'], jobCells: ['a', 'b', 'c'], imageCells: [{ id: 'd', detectorId: 'det' }, { id: 'e', detectorId: 'other' }] });
  const stream = analyzeCells(client, ['x.png'], {});
  assert.deepEqual(await ids(stream), ['a', 'b', 'c', 'd']);
  assert.deepEqual(calls, ['ensureDataset uploads', 'upload ds', 'analyze', 'subscribe']);
  assert.equal(stream.job?.status, 'SUCCEEDED');
});

test('analyzeImages: a socket that stays down is caught up; a failed job throws after its cells', async () => {
  const down = scriptedClient({ live: ['a'], liveError: new NetworkError('gone', 'NETWORK_ERROR'), jobCells: ['a', 'b'] });
  assert.deepEqual(await ids(analyzeCells(down.client, ['x.png'], { datasetId: 'given' })), ['a', 'b']);
  assert.ok(!down.calls.some((c) => c.startsWith('ensureDataset')), 'a given dataset is used as it is');

  const failed = scriptedClient({ live: ['a'], jobCells: ['a', 'b'], status: 'FAILED' });
  const seen: string[] = [];
  await assert.rejects(async () => {
    for await (const c of analyzeCells(failed.client, ['x.png'], {})) seen.push(c.id);
  }, (e: unknown) => e instanceof JobFailedError && e.status === 'FAILED' && /boom/.test(e.message));
  assert.deepEqual(seen, ['a', 'b']);

  const refused = scriptedClient({ live: [], liveError: new BadInputError('no', 'BAD_USER_INPUT'), jobCells: [] });
  await assert.rejects(ids(analyzeCells(refused.client, ['x.png'], {})), BadInputError);
});

// The job rewrites verdicts when it ends (analyze.handler.ts): a failed self-check withholds every class,
// the final classification of all its cells together may name another. The count is the final one.
const as = (label: string): Prediction => ({ label, flagged: false, flagReason: null, reason: null });
const withheld: Prediction = { label: null, flagged: true, flagReason: 'SELF_CHECK', reason: 'self-check failed: the class mix is implausible' };

test('analyzeImages: a verdict the job rewrites when it ends is counted as rewritten, and listed in revised', async () => {
  const { client } = scriptedClient({
    live: ['a', 'b', 'c'], jobCells: ['a', 'b', 'c', 'd'],
    streamed: { a: as('lymphocyte'), b: as('lymphocyte'), c: as('neutrophil') },
    stored: { a: as('lymphocyte'), b: as('monocyte'), c: as('neutrophil'), d: as('monocyte') },
  });
  const stream = analyzeCells(client, ['x.png'], {});
  const lymphocytes: string[] = [];
  for await (const c of stream) lymphocytes.push(`${c.id} ${stream.count.byClass.find((k) => k.label === 'lymphocyte')?.count ?? 0}`);
  assert.deepEqual(lymphocytes, ['a 1', 'b 2', 'c 2', 'd 2'], 'while cells stream, they count with the verdict they streamed with');
  assert.deepEqual(stream.count.byClass.map((k) => [k.label, k.count]), [['monocyte', 2], ['lymphocyte', 1], ['neutrophil', 1]]);
  assert.equal(stream.count.cells, 4);
  assert.deepEqual(stream.revised.map((c) => [c.id, c.prediction?.label]), [['b', 'monocyte']], 'only the cell whose verdict changed, as stored now');
});

test('analyzeImages: a self-check that fails at the end leaves no class in the count, whether or not the job failed', async () => {
  for (const status of [undefined, 'FAILED']) {
    const { client } = scriptedClient({
      live: ['a', 'b'], jobCells: ['a', 'b', 'c'], status,
      streamed: { a: as('lymphocyte'), b: as('neutrophil') },
      stored: { a: withheld, b: withheld, c: withheld },
    });
    const stream = analyzeCells(client, ['x.png'], {});
    const run = ids(stream);
    if (status) await assert.rejects(run, JobFailedError);
    else assert.deepEqual(await run, ['a', 'b', 'c']);
    const d = stream.count;
    assert.deepEqual([d.cells, d.counted, d.byClass, d.flagged], [3, 0, [], 3], `job ${status ?? 'SUCCEEDED'}`);
    assert.deepEqual(d.flaggedByReason, [{ reason: 'SELF_CHECK', count: 3 }]);
    assert.deepEqual(stream.revised.map((c) => c.id), ['a', 'b']);
  }
});

test('the SDK speaks the schema the server serves: one version in the server, the SDK and its package', async () => {
  const { SCHEMA_VERSION: server } = await import('../src/schema/schema-version.js');
  const { SCHEMA_VERSION: sdk, compatibility } = await import('../client-sdk/src/version.js');
  assert.equal(sdk, server, 'client-sdk/src/version.ts and src/schema/schema-version.ts');
  const pkg = JSON.parse(readFileSync(join(SDK, 'package.json'), 'utf8')) as { version: string };
  assert.equal(pkg.version.split('.').slice(0, 2).join('.'), sdk.split('.').slice(0, 2).join('.'), 'the package version carries the schema\'s major.minor');
  // Which servers it speaks to: same major, same or later minor.
  const at = (schema: string) => compatibility({ server: 'x', schema }, '2.1.0');
  assert.deepEqual([at('2.1.0').compatible, at('2.3.7').compatible, at('2.0.9').compatible, at('3.0.0').compatible, at('1.9.0').compatible], [true, true, false, false, false]);
  assert.match(at('2.0.9').reason, /older than this SDK/);
  assert.match(at('3.0.0').reason, /major versions differ/);
  const old = compatibility(null);
  assert.equal(old.compatible, false);
  assert.match(old.reason, /predates schema versions/);
});
