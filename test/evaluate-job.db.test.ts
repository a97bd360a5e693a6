// The evaluate job end to end on real fixture images of two labs: it detects what is missing with the
// committed detector, runs every method (AE-CFE, the baselines, the morphology forests) and stores the
// report as an evaluation, with each lab's cells counted and scored.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startStack, waitFor, REPO, type Stack } from './helpers/stack.js';
import { METHODS } from '../src/evaluation/pipeline.js';

const MODEL = join(REPO, 'models/detector.json');
let s: Stack;
const ids: Record<string, string> = {};

before(async () => {
  s = await startStack();
  for (const dir of ['acevedo20', 'zheng-ds2']) {
    ids[dir] = (await s.ok(`mutation($n: String!) { createDataset(input: { name: $n }) { id } }`, { n: dir })).createDataset.id;
    const j = await s.ok(`mutation($i: ImportDatasetInput!) { importDataset(input: $i) { id } }`, { i: { datasetId: ids[dir], path: dir } });
    await waitFor(async () => (await s.ok(`query($id: ID!) { job(id: $id) { status } }`, { id: j.importDataset.id })).job.status === 'SUCCEEDED', 'import');
  }
});
after(async () => {
  await s?.close();
});

test('evaluate: detects, runs every method and stores the report', { skip: !existsSync(MODEL) && 'no models/detector.json' }, async () => {
  const job = await s.ok(`mutation($i: EvaluateInput!) { evaluate(input: $i) { id } }`, {
    i: { name: 'fixtures', sourceDatasetId: ids.acevedo20, targetDatasetIds: [ids['zheng-ds2']], epochs: 1, seed: 3 },
  });
  const jobId = job.evaluate.id;
  let end: any;
  await waitFor(async () => {
    end = (await s.ok(`query($id: ID!) { job(id: $id) { status result error message } }`, { id: jobId })).job;
    return end.status !== 'QUEUED' && end.status !== 'RUNNING';
  }, 'evaluation', 240_000);
  assert.equal(end.status, 'SUCCEEDED', JSON.stringify(end));
  const evs = (await s.ok(`{ evaluations { id jobId name report } }`)).evaluations.filter((e: any) => e.jobId === jobId);
  assert.equal(evs.length, 1);
  const r = evs[0].report;
  assert.equal(r.format, 'leukograph-evaluation/1');
  assert.equal(r.source, 'acevedo20');
  assert.deepEqual(r.targets, ['zheng-ds2']);
  assert.equal(r.datasets.acevedo20.cells, 15, 'one cell per fixture image (3 per class)');
  assert.equal(r.datasets['zheng-ds2'].labelled, 4);
  assert.equal(r.datasets.acevedo20.train + r.datasets.acevedo20.scored, 15);
  assert.deepEqual(r.settings.methods, [...METHODS]);
  // Every method scored both labs: AE-CFE in `domains`, the others in `baselines`.
  assert.equal(r.domains['zheng-ds2'].n, 4);
  for (const m of METHODS.filter((x) => x !== 'ae_cfe')) {
    const d = r.baselines[m]?.domains;
    assert.ok(d, `${m} missing`);
    assert.equal(d['zheng-ds2'].n, 4, m);
    assert.equal(d.acevedo20.n, r.datasets.acevedo20.scored, m);
    assert.ok(d['zheng-ds2'].accuracy >= 0 && d['zheng-ds2'].accuracy <= 1);
  }
});
