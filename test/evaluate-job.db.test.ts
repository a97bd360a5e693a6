// The evaluate job end to end on real fixture images of two labs: it detects what is missing with the
// committed detector, runs every method (AE-CFE, the baselines, the morphology forests) and stores the
// report as an evaluation, with each lab's cells counted and scored.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import pg from 'pg';
import { join } from 'node:path';
import { startStack, waitFor, REPO, type Stack } from './helpers/stack.js';
import { METHODS } from '../src/evaluation/pipeline.js';

const MODEL = join(REPO, 'models/detector.json');
let s: Stack;
const ids: Record<string, string> = {};

before(async () => {
  s = await startStack();
  // BCCD's fields only add cells for the classify jobs (neighbour consensus needs 20 classified together).
  for (const dir of ['acevedo20', 'zheng-ds2', 'bccd']) {
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

test('a morphology classifier: trained without an autoencoder, it classifies another lab and analyzes its images', { skip: !existsSync(MODEL) && 'no models/detector.json' }, async () => {
  const run = async (mutation: string, type: string, input: Record<string, unknown>) => {
    const id = (await s.ok(`mutation($i: ${type}!) { ${mutation}(input: $i) { id } }`, { i: input }))[mutation].id;
    let j: any;
    await waitFor(async () => {
      j = (await s.ok(`query($id: ID!) { job(id: $id) { id status result error message } }`, { id })).job;
      return j.status !== 'QUEUED' && j.status !== 'RUNNING';
    }, mutation, 120_000);
    assert.equal(j.status, 'SUCCEEDED', JSON.stringify(j));
    return j;
  };
  for (const d of Object.values(ids)) await run('detectCells', 'DetectCellsInput', { datasetId: d });
  // No autoencoder exists in this stack (the evaluation's are not registered): latent features are refused.
  await assert.rejects(s.ok(`mutation($i: TrainClassifierInput!) { trainClassifier(input: $i) { id } }`, { i: { datasetIds: [ids.acevedo20], features: 'LATENT' } }), /no autoencoder/);
  const trained = await run('trainClassifier', 'TrainClassifierInput', { datasetIds: [ids.acevedo20], features: 'MORPHOLOGY', testFraction: 0, minConfidence: 0 });
  assert.equal(trained.result.features, 'morphology');
  assert.equal(trained.result.trainCells, 15);
  const model = (await s.ok(`{ models(kind: "classifier") { id active params parentId } }`)).models.find((m: any) => m.active);
  assert.equal(model.params.features, 'morphology');
  assert.equal(model.parentId, null);

  const classified = await run('classifyCells', 'ClassifyCellsInput', { datasetId: ids['zheng-ds2'] });
  assert.equal(classified.result.features, 'morphology');
  // The classifier carries its training cells' stain reference; a handful of cells is too few for AUTO to
  // judge another lab's stain, and the result says so.
  assert.equal(classified.result.stain.mode, 'auto');
  assert.equal(classified.result.stain.centred, false);
  assert.match(classified.result.stain.note, /too few/);
  // Its self-check as a client reads it (typed, schema 2.3): a fixture's few cells are too few for any check, so
  // each planned check is listed as skipped with its reason, none is a verdict, and the status is a warning.
  const typed = (await s.ok(`query($id: ID!) { job(id: $id) { typedResult { ... on ClassifyJobResult { selfCheck { status cells warning verdicts { check } skipped { check reason } } } } } }`, { id: classified.id })).job.typedResult.selfCheck;
  assert.equal(typed.status, 'WARNING', JSON.stringify(typed));
  assert.deepEqual(typed.verdicts, []);
  assert.ok(typed.skipped.length > 0, JSON.stringify(typed));
  assert.ok(typed.skipped.some((x: any) => x.check === 'class_mix'), JSON.stringify(typed.skipped));
  for (const x of typed.skipped) {
    assert.ok(['class_mix', 'estimated_mix', 'coverage', 'view_agreement', 'confidence'].includes(x.check), x.check);
    assert.match(x.reason, /too few cells/);
  }
  assert.deepEqual(typed.skipped, classified.result.selfCheck.skipped, 'the typed list is the raw result\'s');
  assert.match(typed.warning, /not checked: class mix/);
  // Neighbour consensus is asked for; it needs at least 20 cells classified together: one dataset's few fixture cells are too few.
  const fewCells = await run('classifyCells', 'ClassifyCellsInput', { datasetId: ids['zheng-ds2'], neighbourConsensus: true });
  assert.equal(fewCells.result.consensus.applied, false);
  assert.match(fewCells.result.consensus.note, /too few/);
  assert.equal(classified.result.consensus.applied, false, 'off by default');
  const forced = await run('classifyCells', 'ClassifyCellsInput', { datasetId: ids['zheng-ds2'], stainAdaptation: 'ALWAYS' });
  assert.equal(forced.result.stain.centred, true);
  assert.ok(forced.result.stain.statistic >= 0, JSON.stringify(forced.result.stain));
  assert.equal(forced.result.stain.cells, forced.result.classified);
  // Moved onto the training medians under the cells' class mix, estimated by the classifier's shape forest.
  const mix = forced.result.stain.classMix as Record<string, number>;
  assert.ok(mix && Object.keys(mix).every((c) => ['neutrophil', 'lymphocyte', 'monocyte', 'eosinophil', 'basophil'].includes(c)), JSON.stringify(forced.result.stain));
  assert.ok(Math.abs(Object.values(mix).reduce((a, v) => a + v, 0) - 1) < 1e-6, JSON.stringify(mix));
  assert.match(forced.result.stain.note, /estimated class mix/);
  const cellsQuery = `query($d: ID!) { cells(datasetId: $d, limit: 100) { total items { id index prediction { label flagged probabilities { label probability } modelId } } } }`;
  const page = await s.ok(cellsQuery, { d: ids['zheng-ds2'] });
  assert.equal(classified.result.classified, page.cells.total);
  for (const c of page.cells.items) {
    assert.equal(c.prediction.modelId, model.id);
    const sum = c.prediction.probabilities.reduce((a: number, p: any) => a + p.probability, 0);
    assert.ok(Math.abs(sum - 1) < 1e-6, `probabilities sum to ${sum}`);
    // minConfidence 0: only novelty can flag; a kept cell carries one of the five classes
    if (!c.prediction.flagged) assert.ok(['neutrophil', 'lymphocyte', 'monocyte', 'eosinophil', 'basophil'].includes(c.prediction.label));
  }
  const analyzed = await run('analyzeImages', 'AnalyzeImagesInput', { datasetId: ids['zheng-ds2'] });
  assert.deepEqual(analyzed.result.stages, ['detect', 'classify']);
  // Analyze streams each image's cells as it is done, provisionally moved as the last classifyCells over the dataset
  // with this classifier measured (the forced one above); once every image is done it classifies the dataset's cells
  // together through the classify job's own path, so its final verdicts are a default classifyCells job's.
  const zheng = analyzed.result.stain.datasets[ids['zheng-ds2']!];
  assert.equal(zheng.provisional.fromJob, forced.id, JSON.stringify(analyzed.result.stain));
  assert.equal(zheng.provisional.centred, true);
  assert.equal(zheng.cells, classified.result.classified);
  assert.match(zheng.note, /too few/);
  assert.equal(analyzed.result.stain.centred, false);
  assert.equal(analyzed.result.selfCheck.status, classified.result.selfCheck.status);
  const afterAnalyze = await s.ok(cellsQuery, { d: ids['zheng-ds2'] });
  assert.equal(afterAnalyze.cells.items.length, page.cells.items.length);
  await run('classifyCells', 'ClassifyCellsInput', { datasetId: ids['zheng-ds2'] });
  const byClassify = new Map((await s.ok(cellsQuery, { d: ids['zheng-ds2'] })).cells.items.map((c: any) => [c.id, c.prediction]));
  for (const c of afterAnalyze.cells.items) assert.deepEqual(c.prediction, byClassify.get(c.id), `cell ${c.id}`);
  // A dataset that no classifyCells has measured: its provisional verdicts took no move, and the result says why.
  const plain = await run('analyzeImages', 'AnalyzeImagesInput', { datasetId: ids.acevedo20 });
  assert.equal(plain.result.stain.centred, false);
  assert.match(plain.result.stain.datasets[ids.acevedo20!].provisional.note, /no classifyCells over this dataset/);
  // A cell whose image cannot be read any more fails alone: reported with its reason, the others classified.
  const db = new pg.Client({ connectionString: s.databaseUrl });
  await db.connect();
  const gone = (await db.query(`SELECT i.storage_path, array_agg(c.id::text) AS cells, count(c.id)::int AS n FROM images i JOIN cells c ON c.image_id = i.id WHERE i.dataset_id = $1 GROUP BY i.id ORDER BY i.source_path LIMIT 1`, [ids['zheng-ds2']])).rows[0];
  await db.end();
  await rename(gone.storage_path, `${gone.storage_path}.gone`);
  // Its cells' crops, cached by the earlier jobs, go too: without them the image must be read again.
  for (const id of gone.cells as string[]) await rm(join(s.cfg.dataDir, 'crops', '128', id.slice(0, 2), `${id}.rgb`), { force: true });
  try {
    const partial = await run('classifyCells', 'ClassifyCellsInput', { datasetId: ids['zheng-ds2'], stainAdaptation: 'OFF' });
    assert.equal(partial.result.unreadable, gone.n, JSON.stringify(partial.result));
    assert.equal(partial.result.classified, page.cells.total - gone.n);
  } finally {
    await rename(`${gone.storage_path}.gone`, gone.storage_path);
  }
  const n = Object.values(analyzed.result.counts as Record<string, number>).reduce((a, b) => a + b, 0) + analyzed.result.flagged;
  assert.equal(n, analyzed.result.cells);
  // Both datasets' images in one job: enough cells for the consensus, which reports what it changed; the
  // probabilities it leaves still sum to one. Left at its default (off), it is not applied and says so.
  const imageIds: string[] = [];
  for (const d of Object.values(ids)) imageIds.push(...(await s.ok(`query($id: ID!) { images(datasetId: $id, limit: 100) { items { id } } }`, { id: d })).images.items.map((i: any) => i.id));
  const together = await run('classifyCells', 'ClassifyCellsInput', { imageIds, stainAdaptation: 'OFF', neighbourConsensus: true });
  assert.ok(together.result.classified >= 20, JSON.stringify(together.result));
  assert.equal(together.result.consensus.applied, true, JSON.stringify(together.result.consensus));
  assert.equal(together.result.consensus.cells, together.result.classified);
  assert.ok(together.result.consensus.changed >= 0 && together.result.consensus.changed <= together.result.classified);
  assert.match(together.message, /neighbour consensus over \d+ cells \(5 neighbours, weight 0.5\) changed \d+ verdict/);
  for (const d of Object.values(ids)) {
    for (const c of (await s.ok(cellsQuery, { d })).cells.items) {
      const sum = c.prediction.probabilities.reduce((a: number, p: any) => a + p.probability, 0);
      assert.ok(Math.abs(sum - 1) < 1e-6, `probabilities sum to ${sum}`);
    }
  }
  const off = await run('classifyCells', 'ClassifyCellsInput', { imageIds, stainAdaptation: 'OFF' });
  assert.equal(off.result.consensus.applied, false);
  assert.match(off.result.consensus.note, /neighbourConsensus false/);
  assert.equal(off.result.classified, together.result.classified);
});
