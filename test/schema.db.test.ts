// The schema a tool can trust: enums refuse misspelt kinds and cell types, relations cost a bounded number of
// database queries however many rows a page holds, lookups of unknown ids are null, flagged cells keep their
// best guess, deprecated fields still answer, and the typed results of classify, analyze and evaluate jobs
// give the differential count (the one definition the SDK exports) and the scores against labels.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import type { Logger } from 'typeorm';
import { startStack, type Stack } from './helpers/stack.js';
import { differentialCount } from '../client-sdk/src/differential-count.js';

let s: Stack;
let db: pg.Client;
let datasetId: string;
let otherDatasetId: string;
let classifierId: string;
const imageIds: string[] = [];

const CLASSES = ['neutrophil', 'lymphocyte', 'monocyte', 'eosinophil', 'basophil'];

/**
 * 40 labelled images of 360 x 360 (class i % 5), with 3 cells each: 120 cells. Cell 0 of image i is classified
 * as its label except every 8th image (called 'monocyte'); cell 1 is flagged (NOVEL for odd i, LOW_CONFIDENCE
 * for even); cell 2 touches the right border (cut) and is classified. Images 36-39 have no mask on cell 0
 * (border unknown: counted as complete).
 */
async function seed(): Promise<void> {
  const ds = await db.query(`INSERT INTO datasets (name) VALUES ('schema-seeded'), ('schema-other') RETURNING id`);
  datasetId = ds.rows[0].id;
  otherDatasetId = ds.rows[1].id;
  const det = await db.query(`INSERT INTO models (kind, name, version, artifact_path) VALUES ('detector', 'seeded-detector', '1', '/nowhere') RETURNING id`);
  // Its held-out report as trainClassifier writes it (metrics.heldOut: src/pipeline/metrics.ts ClassificationReport).
  const heldOut = { n: 10, accuracy: 0.9, accuracyCi95: [0.6, 0.98], balancedAccuracy: 0.875, macroF1: 0.88, minSupport: 5, perClass: [], confusion: { labels: ['a', 'b'], matrix: [[5, 1], [0, 4]] } };
  const clf = await db.query(
    `INSERT INTO models (kind, name, version, artifact_path, params, metrics, dataset_ids) VALUES ('classifier', 'seeded-forest', '1', '/nowhere', $1, $2, $3) RETURNING id`,
    [{ classMap: 'common5', features: 'morphology' }, { heldOut }, [datasetId]],
  );
  classifierId = clf.rows[0].id;
  for (let i = 0; i < 40; i++) {
    const label = CLASSES[i % 5]!;
    const img = await db.query(
      `INSERT INTO images (dataset_id, source_path, storage_path, sha256, width, height, format, bytes, raw_label, cell_type)
       VALUES ($1, $2, '/nowhere', $3, 360, 360, 'jpeg', 1, $4, $4) RETURNING id`,
      [datasetId, `seeded/${String(i).padStart(3, '0')}.jpg`, String(i).padStart(64, '0'), label],
    );
    imageIds.push(img.rows[0].id);
    const probs = (top: string, p: number) => Object.fromEntries(CLASSES.map((c) => [c, c === top ? p : (1 - p) / 4]));
    const called = i % 8 === 0 ? 'monocyte' : label;
    const cells = [
      { box: [100, 100, 200, 200], mask: i >= 36 ? null : { size: [360, 360], counts: [0] }, prediction: { label: called, probabilities: probs(called, 0.8), flagged: false, reason: null, modelId: classifierId } },
      {
        box: [20, 20, 90, 90], mask: { size: [360, 360], counts: [0] },
        prediction: i % 2
          ? { label: null, probabilities: probs('lymphocyte', 0.7), flagged: true, reason: 'unlike the training cells (novelty score 1.40 > 1)', modelId: classifierId }
          : { label: null, probabilities: probs('eosinophil', 0.3), flagged: true, reason: 'low confidence (0.30 < 0.4)', modelId: classifierId },
      },
      { box: [300, 150, 359, 230], mask: { size: [360, 360], counts: [0] }, prediction: { label: 'neutrophil', probabilities: probs('neutrophil', 0.9), flagged: false, reason: null, modelId: classifierId } },
    ];
    for (const [index, c] of cells.entries()) {
      await db.query(`INSERT INTO cells (image_id, detector_id, index, box, score, mask, prediction) VALUES ($1, $2, $3, $4, 0.9, $5, $6)`, [img.rows[0].id, det.rows[0].id, index, c.box, c.mask, c.prediction]);
    }
  }
  for (let i = 0; i < 3; i++) {
    await db.query(`INSERT INTO images (dataset_id, source_path, storage_path, sha256, width, height, format, bytes) VALUES ($1, $2, '/nowhere', $3, 10, 10, 'png', 1)`, [otherDatasetId, `o/${i}.png`, `f${i}`.padStart(64, '0')]);
  }
}

before(async () => {
  s = await startStack({ engine: false });
  db = new pg.Client({ connectionString: s.databaseUrl });
  await db.connect();
  await seed();
});

after(async () => {
  await db?.end();
  await s?.close();
});

/** Runs a query and returns its data with the number of SQL statements the API ran for it. */
async function counted<T = any>(query: string, variables?: Record<string, unknown>): Promise<{ data: T; queries: string[] }> {
  const ds = s.api.services.ds;
  const original = ds.logger;
  const queries: string[] = [];
  const counting: Logger = {
    logQuery: (q) => void queries.push(q),
    logQueryError: (...a) => original.logQueryError(...a),
    logQuerySlow: (...a) => original.logQuerySlow(...a),
    logSchemaBuild: (...a) => original.logSchemaBuild(...a),
    logMigration: (...a) => original.logMigration(...a),
    log: (...a) => original.log(...a),
  };
  (ds as { logger: Logger }).logger = counting;
  try {
    return { data: await s.ok<T>(query, variables), queries };
  } finally {
    (ds as { logger: Logger }).logger = original;
  }
}

test('a misspelt job kind, model kind or cell type is a validation error, not an empty list', async () => {
  for (const q of [`{ jobs(type: CLASSIFER) { total } }`, `{ models(type: DETECTORS) { id } }`, `{ images(canonicalType: NEUTROPHILS) { total } }`]) {
    const r = await s.gql(q);
    assert.equal(r.errors?.[0]?.extensions?.code, 'GRAPHQL_VALIDATION_FAILED', `${q}: ${JSON.stringify(r)}`);
    assert.match(r.errors![0].message, /does not exist in "(JobKind|ModelKind|CellType)" enum/);
  }
  // Through variables, as typed clients send them.
  const v = await s.gql(`query($t: CellType) { images(canonicalType: $t) { total } }`, { t: 'neutrophils' });
  assert.equal(v.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT', JSON.stringify(v));
  // The deprecated string arguments still work, and now refuse what no enum value names.
  for (const q of [`{ jobs(kind: "classifer") { total } }`, `{ models(kind: "detectors") { id } }`, `{ images(cellType: "neutrophils") { total } }`]) {
    const r = await s.gql(q);
    assert.equal(r.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT', `${q}: ${JSON.stringify(r)}`);
    assert.match(r.errors![0].message, /is not one of/);
  }
  assert.equal((await s.ok(`{ images(cellType: "monocyte") { total } }`)).images.total, 8);
  assert.equal((await s.ok(`{ images(canonicalType: MONOCYTE) { total } }`)).images.total, 8);
  const both = await s.gql(`{ images(canonicalType: MONOCYTE, cellType: "basophil") { total } }`);
  assert.match(both.errors?.[0]?.message ?? '', /disagree/);
  assert.deepEqual((await s.ok(`{ models(type: CLASSIFIER) { id type kind } }`)).models, [{ id: classifierId, type: 'CLASSIFIER', kind: 'classifier' }]);
});

test('a page of 100 cells with their images, datasets and detectors costs a bounded number of queries', async (t) => {
  const q = `query($n: Int, $d: ID) { cells(datasetId: $d, limit: $n) { total items { id prediction { label } detector { id name } image { id sourcePath canonicalType dataset { id name } cells { id } } } } }`;
  const run = (n: number) => counted(q, { n, d: datasetId });
  const small = await run(10);
  const large = await run(100);
  assert.equal(large.data.cells.items.length, 100);
  assert.equal(large.data.cells.total, 120);
  for (const c of large.data.cells.items) {
    assert.equal(c.image.dataset.id, datasetId);
    assert.equal(c.image.cells.length, 3);
    assert.ok(c.image.cells.some((x: { id: string }) => x.id === c.id));
    assert.equal(c.detector.name, 'seeded-detector');
  }
  // The page itself (rows and total), then one batch each: images, datasets, cells of images, detectors.
  assert.ok(large.queries.length <= 6, `${large.queries.length} queries:\n${large.queries.join('\n')}`);
  assert.equal(large.queries.length, small.queries.length, `10 cells: ${small.queries.length} queries, 100 cells: ${large.queries.length}`);
  t.diagnostic(`SQL statements: ${small.queries.length} for 10 cells, ${large.queries.length} for 100 cells`);
});

test('Dataset.images pages every dataset of a list with one query per page size; Model.datasets; unknown ids are null', async () => {
  const q = `{ datasets { id images(limit: 2, offset: 1) { total items { sourcePath } } } }`;
  const { data, queries } = await counted(q);
  const by = new Map(data.datasets.map((d: any) => [d.id, d.images]));
  assert.deepEqual(by.get(datasetId), { total: 40, items: [{ sourcePath: 'seeded/001.jpg' }, { sourcePath: 'seeded/002.jpg' }] });
  assert.deepEqual(by.get(otherDatasetId), { total: 3, items: [{ sourcePath: 'o/1.png' }, { sourcePath: 'o/2.png' }] });
  assert.ok(queries.length <= 3, queries.join('\n'));
  const past = await s.ok(`query($id: ID!) { dataset(id: $id) { images(offset: 100) { total items { id } } } }`, { id: otherDatasetId });
  assert.deepEqual(past.dataset.images, { total: 3, items: [] }, 'a page past the end still has the total');
  const m = await s.ok(`query($id: ID!) { model(id: $id) { datasets { id name } datasetIds job { id } parent { id } heldOut { n accuracy accuracyCi95 confusion { labels matrix } } } }`, { id: classifierId });
  assert.deepEqual(m.model, {
    datasets: [{ id: datasetId, name: 'schema-seeded' }], datasetIds: [datasetId], job: null, parent: null,
    heldOut: { n: 10, accuracy: 0.9, accuracyCi95: [0.6, 0.98], confusion: { labels: ['a', 'b'], matrix: [[5, 1], [0, 4]] } },
  });
  assert.equal((await s.ok(`{ models(type: DETECTOR) { heldOut { n } } }`)).models[0].heldOut, null, 'no held-out report: null');
  const unknown = '00000000-0000-4000-8000-000000000000';
  const nulls = await s.gql(`query($id: ID!) { cell(id: $id) { id } image(id: $id) { id } dataset(id: $id) { id } job(id: $id) { id } model(id: $id) { id } evaluation(id: $id) { id } datasets { id } }`, { id: unknown });
  assert.equal(nulls.errors, undefined);
  assert.deepEqual({ ...nulls.data, datasets: undefined }, { cell: null, image: null, dataset: null, job: null, model: null, evaluation: null, datasets: undefined });
  assert.equal(nulls.data.datasets.length, 2, 'a miss leaves the rest of the answer');
});

test('a flagged cell keeps its best guess and a reason code; old fields answer and are marked deprecated', async () => {
  const { cells } = await s.ok(`query($img: ID!) { cells(imageId: $img) { items { index imageId image { id } prediction { label flagged flagReason reason bestGuess { label probability } } } } }`, { img: imageIds[1] });
  const [kept, flagged] = cells.items;
  assert.deepEqual(kept.prediction.bestGuess, { label: 'lymphocyte', probability: 0.8 });
  assert.equal(kept.prediction.flagReason, null);
  assert.equal(flagged.prediction.label, null);
  assert.equal(flagged.prediction.flagReason, 'NOVEL');
  assert.equal(flagged.prediction.bestGuess.label, 'lymphocyte');
  assert.ok(Math.abs(flagged.prediction.bestGuess.probability - 0.7) < 1e-9);
  assert.equal(kept.imageId, kept.image.id);
  const intro = await s.ok(`{ __type(name: "Cell") { fields(includeDeprecated: true) { name isDeprecated deprecationReason } } }`);
  const f = new Map(intro.__type.fields.map((x: any) => [x.name, x]));
  assert.deepEqual(f.get('imageId'), { name: 'imageId', isDeprecated: true, deprecationReason: 'Use image { id }' });
  assert.equal((f.get('image') as { isDeprecated: boolean }).isDeprecated, false);
  const importInput = await s.ok(`{ __type(name: "ImportDatasetInput") { inputFields { name } } }`);
  assert.ok(!importInput.__type.inputFields.some((x: { name: string }) => x.name === 'throttleMs'), 'test-only knobs are not in the schema');
  const v = await s.ok(`{ serverVersion { server schema } }`);
  assert.match(v.serverVersion.schema, /^2\.\d+\.\d+$/);
});

const RESULT = `query($id: ID!) { job(id: $id) { type typedResult { __typename
  ... on ClassifyJobResult { classified flagged classifierId differential { cells counted byClass { label count fraction } flagged flaggedByReason { reason count } unclassified cutByBorder }
    againstLabels { scored correct accuracy flagged classMap confusion { labels matrix } } classifier { id } }
  ... on AnalyzeJobResult { cells stages differential { cells counted unclassified cutByBorder flagged } againstLabels { scored } }
  ... on EvaluateJobResult { evaluationId evaluation { id name } scores { method domain role n accuracy accuracyCi95 confusion { labels matrix } flags { flagged novel lowConfidence unflaggedAccuracy } selfCheck { status verdicts { check value } } } } } } }`;

async function insertJob(kind: string, params: object, result: object): Promise<string> {
  const r = await db.query(`INSERT INTO jobs (kind, status, params, result, finished_at) VALUES ($1, 'succeeded', $2, $3, now()) RETURNING id`, [kind, params, result]);
  return r.rows[0].id;
}

test('a classify job\'s typed result: the differential count of its cells and its agreement with the labels', async () => {
  const jobId = await insertJob('classify', { datasetId, classifierId }, { classified: 120, flagged: 40, counts: {}, unreadable: 0, features: 'morphology', classifierId });
  const { job } = await s.ok(RESULT, { id: jobId });
  assert.equal(job.type, 'CLASSIFY');
  const r = job.typedResult;
  assert.equal(r.__typename, 'ClassifyJobResult');
  assert.equal(r.classifier.id, classifierId);
  // 120 cells: 40 cut by the border (cell 2), 40 flagged (20 NOVEL, 20 LOW_CONFIDENCE), 40 counted: 5 of the 8
  // images per class called right, every 8th image (i = 0, 8, 16, 24, 32: neutrophils and monocytes...) 'monocyte'.
  assert.deepEqual([r.differential.cells, r.differential.counted, r.differential.flagged, r.differential.cutByBorder, r.differential.unclassified], [120, 40, 40, 40, 0]);
  assert.deepEqual(r.differential.flaggedByReason, [{ reason: 'NOVEL', count: 20 }, { reason: 'LOW_CONFIDENCE', count: 20 }]);
  const expected = new Map<string, number>();
  for (let i = 0; i < 40; i++) expected.set(i % 8 === 0 ? 'monocyte' : CLASSES[i % 5]!, (expected.get(i % 8 === 0 ? 'monocyte' : CLASSES[i % 5]!) ?? 0) + 1);
  assert.deepEqual(Object.fromEntries(r.differential.byClass.map((c: any) => [c.label, c.count])), Object.fromEntries(expected));
  assert.ok(Math.abs(r.differential.byClass.reduce((a: number, c: any) => a + c.fraction, 0) - 1) < 1e-9);
  // The same count as the SDK's differentialCount over the same cells, as a client reads them.
  const page = await s.ok(`query($d: ID!) { cells(datasetId: $d, limit: 500) { items { cutByBorder prediction { label flagged flagReason reason } } } }`, { d: datasetId });
  const sdk = differentialCount(page.cells.items);
  assert.deepEqual({ ...sdk, byClass: sdk.byClass.map((c) => ({ ...c })) }, r.differential);
  // Against labels: each image's top cell (index 0); wrong where i % 8 == 0 and the label is not monocyte.
  const wrong = [0, 8, 16, 24, 32].filter((i) => CLASSES[i % 5] !== 'monocyte').length;
  assert.deepEqual([r.againstLabels.scored, r.againstLabels.correct, r.againstLabels.flagged, r.againstLabels.classMap], [40, 40 - wrong, 0, 'common5']);
  assert.equal(r.againstLabels.accuracy, (40 - wrong) / 40);
  const at = (l: string) => r.againstLabels.confusion.labels.indexOf(l);
  assert.equal(r.againstLabels.confusion.matrix[at('neutrophil')][at('monocyte')], [0, 8, 16, 24, 32].filter((i) => CLASSES[i % 5] === 'neutrophil').length);
});

test('analyze and evaluate jobs have typed results too; other kinds have none', async () => {
  const detectorId = (await db.query(`SELECT id FROM models WHERE kind = 'detector'`)).rows[0].id;
  const analyzed = await insertJob('analyze', { imageIds: imageIds.slice(0, 4) }, { cells: 12, counts: {}, flagged: 4, failed: 0, failures: [], stages: ['detect', 'classify'], detectorId, classifierId: null });
  const a = (await s.ok(RESULT, { id: analyzed })).job.typedResult;
  assert.equal(a.__typename, 'AnalyzeJobResult');
  // No classifier in this job: its cells are found but not classified (their old verdicts are another job's).
  assert.deepEqual(a.differential, { cells: 12, counted: 0, unclassified: 8, cutByBorder: 4, flagged: 0 });
  assert.equal(a.againstLabels, null);

  const conf = { labels: ['lymphocyte', 'neutrophil'], matrix: [[3, 1], [0, 4]] };
  const domain = (n: number) => ({ role: 'target', n, accuracy: 0.875, accuracy_ci95: [0.53, 0.98], balanced_accuracy: 0.875, macro_f1: 0.87, confusion: conf,
    flags: { min_confidence: 0.4, n, flagged: 2, novel: 1, low_confidence: 1, unflagged: { n: 6, accuracy: 1, accuracy_ci95: [0.6, 1] }, flagged_accuracy: 0.5 } });
  // morphology_default's domains keep the lab's self-check (schema 2.5); the other methods' have none.
  const checked = { ...domain(8), selfCheck: { status: 'failed', cells: 8, verdicts: [{ check: 'confidence', status: 'failed', value: 0.77, warnAt: 0.9, failAt: 0.84, note: 'estimated accuracy 77 %' }], skipped: [], warning: 'SELF-CHECK FAILED' } };
  const report = { format: 'leukograph-evaluation/1', domains: { bccd: domain(8) }, baselines: { morphology_adaptive: { description: '', domains: { bccd: domain(8) } }, morphology_default: { description: '', domains: { bccd: checked } } } };
  const evaluated = await insertJob('evaluate', {}, {});
  const ev = await db.query(`INSERT INTO evaluations (job_id, name, report) VALUES ($1, 'seeded', $2) RETURNING id`, [evaluated, report]);
  await db.query(`UPDATE jobs SET result = $2 WHERE id = $1`, [evaluated, { evaluationId: ev.rows[0].id, summary: {} }]);
  const e = (await s.ok(RESULT, { id: evaluated })).job.typedResult;
  assert.equal(e.__typename, 'EvaluateJobResult');
  assert.deepEqual(e.evaluation, { id: ev.rows[0].id, name: 'seeded' });
  // (PostgreSQL's jsonb orders an object's keys shortest first.)
  assert.deepEqual(e.scores.map((x: any) => `${x.method}|${x.domain}|${x.n}`), ['ae_cfe|bccd|8', 'morphology_default|bccd|8', 'morphology_adaptive|bccd|8']);
  assert.deepEqual(e.scores.map((x: any) => x.selfCheck), [null, { status: 'FAILED', verdicts: [{ check: 'confidence', value: 0.77 }] }, null]);
  assert.deepEqual(e.scores[0].confusion, conf);
  assert.deepEqual(e.scores[0].accuracyCi95, [0.53, 0.98]);
  assert.deepEqual(e.scores[0].flags, { flagged: 2, novel: 1, lowConfidence: 1, unflaggedAccuracy: 1 });

  // The self-check's skipped checks (schema 2.3): listed with their reason; a result stored before the list has none.
  const CHECK = `query($id: ID!) { job(id: $id) { typedResult { ... on ClassifyJobResult { selfCheck { status cells verdicts { check } skipped { check reason } } } } } }`;
  const few = await insertJob('classify', { datasetId, classifierId }, { classified: 5, flagged: 0, counts: {}, unreadable: 0, features: 'morphology', classifierId,
    selfCheck: { status: 'warning', cells: 5, verdicts: [], skipped: [{ check: 'class_mix', reason: 'too few cells (5) to check the count; a check needs at least 30' }], warning: 'Self-check warning: review this count: too few cells (5).' } });
  assert.deepEqual((await s.ok(CHECK, { id: few })).job.typedResult.selfCheck,
    { status: 'WARNING', cells: 5, verdicts: [], skipped: [{ check: 'class_mix', reason: 'too few cells (5) to check the count; a check needs at least 30' }] });
  const older = await insertJob('classify', { datasetId, classifierId }, { classified: 120, flagged: 0, counts: {}, unreadable: 0, features: 'morphology', classifierId,
    selfCheck: { status: 'passed', cells: 120, verdicts: [{ check: 'class_mix', status: 'passed', value: 0.2, warnAt: 0.5, failAt: 1, note: 'near' }], warning: null } });
  assert.deepEqual((await s.ok(CHECK, { id: older })).job.typedResult.selfCheck, { status: 'PASSED', cells: 120, verdicts: [{ check: 'class_mix' }], skipped: [] });

  const imported = await insertJob('import', {}, { created: 3 });
  assert.equal((await s.ok(RESULT, { id: imported })).job.typedResult, null);
});
