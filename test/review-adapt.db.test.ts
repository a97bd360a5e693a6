// Adapt (issue 20): a lab's reviewed cells join a classifier's training cells (trainClassifier
// reviewedDatasetIds), moved onto the source's stain as the lab's classify job moved them and repeated to
// carry their share; the lab classified again says what changed. Real fixture images, the committed detector.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startStack, waitFor, REPO, type Stack } from './helpers/stack.js';
import { MORPHOLOGY_AUGMENT_COPIES } from '../src/pipeline/defaults.js';

const MODEL = join(REPO, 'models/detector.json');
let s: Stack;
const ids: Record<string, string> = {};

async function run(mutation: string, type: string, input: Record<string, unknown>): Promise<any> {
  const id = (await s.ok(`mutation($i: ${type}!) { ${mutation}(input: $i) { id } }`, { i: input }))[mutation].id;
  let j: any;
  await waitFor(async () => {
    j = (await s.ok(`query($id: ID!) { job(id: $id) { id status result error message } }`, { id })).job;
    return j.status !== 'QUEUED' && j.status !== 'RUNNING';
  }, mutation, 180_000);
  assert.equal(j.status, 'SUCCEEDED', JSON.stringify(j));
  return j;
}

before(async () => {
  s = await startStack();
  for (const dir of ['acevedo20', 'zheng-ds2']) {
    ids[dir] = (await s.ok(`mutation($n: String!) { createDataset(input: { name: $n }) { id } }`, { n: dir })).createDataset.id;
    await run('importDataset', 'ImportDatasetInput', { datasetId: ids[dir], path: dir });
  }
});
after(async () => {
  await s?.close();
});

test('reviewed cells of a lab retrain the classifier; classifying the lab again lists what changed', { skip: !existsSync(MODEL) && 'no models/detector.json' }, async () => {
  for (const d of Object.values(ids)) await run('detectCells', 'DetectCellsInput', { datasetId: d, topOnly: true });
  const base = await run('trainClassifier', 'TrainClassifierInput', { datasetIds: [ids.acevedo20], features: 'MORPHOLOGY', testFraction: 0 });
  assert.equal(base.result.reviewed, undefined, 'no reviews asked for');
  const first = await run('classifyCells', 'ClassifyCellsInput', { datasetId: ids['zheng-ds2'], stainAdaptation: 'ALWAYS' });
  assert.equal(first.result.changes.compared, 0, 'nothing was classified before');

  // A person reviews the lab's cells with their labels; one review gives a class outside common5.
  const cells = (await s.ok(`query($d: ID!) { cells(datasetId: $d, limit: 100) { items { id image { label(classMap: COMMON5) } } } }`, { d: ids['zheng-ds2'] })).cells.items;
  assert.ok(cells.length >= 4);
  for (const c of cells) await s.ok(`mutation($c: ID!, $l: String!) { reviewCell(cellId: $c, label: $l) { id } }`, { c: c.id, l: c.image.label });
  await s.ok(`mutation($c: ID!) { reviewCell(cellId: $c, label: "myeloblast") { id } }`, { c: cells[0].id });
  // ... and undoes it: the cell's earlier review counts again.
  const trail = (await s.ok(`query($d: ID!) { reviewTrail(datasetId: $d, limit: 1) { items { id label } } }`, { d: ids['zheng-ds2'] })).reviewTrail.items;
  assert.equal(trail[0].label, 'myeloblast');
  await s.ok(`mutation($id: ID!) { undoReview(id: $id) { id } }`, { id: trail[0].id });

  const adapted = await run('trainClassifier', 'TrainClassifierInput', {
    datasetIds: [ids.acevedo20], features: 'MORPHOLOGY', testFraction: 0, reviewedDatasetIds: [ids['zheng-ds2']], reviewShare: 0.5,
  });
  const r = adapted.result.reviewed;
  assert.equal(r.cells, cells.length, JSON.stringify(r));
  assert.equal(r.share, 0.5);
  // 15 source cells with MORPHOLOGY_AUGMENT_COPIES augmented copies each, 4+ reviewed at half the weight of those
  // training rows: each repeated round(15 x (1 + copies) / n) times.
  assert.equal(r.copies, Math.max(1, Math.round((15 * (1 + MORPHOLOGY_AUGMENT_COPIES)) / cells.length)));
  assert.match(r.datasets[ids['zheng-ds2']].stainFrom, new RegExp(`classify job ${first.id}`));
  assert.match(adapted.message, /reviewed/);
  assert.equal(adapted.result.trainCells, 15, 'trainCells counts the source cells');

  const again = await run('classifyCells', 'ClassifyCellsInput', { datasetId: ids['zheng-ds2'], stainAdaptation: 'ALWAYS' });
  // The lab's cells are moved as its reviewed cells were (the first classify job's offsets), not measured again.
  assert.match(again.result.stain.note, /reviewed cells/);
  assert.deepEqual(again.result.stain.offsets, first.result.stain.offsets);
  const ch = again.result.changes;
  assert.equal(ch.compared, again.result.classified);
  assert.equal(ch.changed, Object.values(ch.transitions as Record<string, number>).reduce((a, b) => a + b, 0));
  assert.equal(ch.cells.length, ch.changed);
  // Trained on them at that weight, the retrained classifier gives the reviewed cells their reviewed classes.
  const after = (await s.ok(`query($d: ID!) { cells(datasetId: $d, limit: 100) { items { id prediction { bestGuess { label } } image { label(classMap: COMMON5) } } } }`, { d: ids['zheng-ds2'] })).cells.items;
  const right = after.filter((c: any) => c.prediction.bestGuess.label === c.image.label).length;
  assert.ok(right >= after.length - 1, `${right} of ${after.length} reviewed cells get their reviewed class`);
});
