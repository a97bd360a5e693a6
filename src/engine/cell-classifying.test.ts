import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyCellsInWorker } from './cell-classifying.js';
import { classifyCells, type ClassifyOptions } from '../pipeline/classify.js';
import { trainCellClassifier } from '../pipeline/classifier-training.js';
import { createRng } from './classifier/rng.js';
import { standardNormal } from './classifier/synthetic-data.js';
import { MORPHOLOGY_COLOUR_COLUMNS, MORPHOLOGY_LENGTH } from '../imaging/cell-morphology.js';
import type { FeatureMatrix } from './classifier/feature-matrix.js';

const CLASSES = ['neutrophil', 'lymphocyte', 'monocyte'];
const rng = createRng(23);
const centres = CLASSES.map(() => Array.from({ length: MORPHOLOGY_LENGTH }, () => standardNormal(rng)));
const row = (k: number, shift = 0) =>
  Float64Array.from({ length: MORPHOLOGY_LENGTH }, (_, c) => centres[k]![c]! + 1.1 * standardNormal(rng) + (MORPHOLOGY_COLOUR_COLUMNS.includes(c) ? shift : 0));
const ys = Array.from({ length: 900 }, (_, i) => i % 3);
const rows = ys.map((k) => row(k));
// A morphology classifier with every part the classify stage reads: stain reference and shape forest, plain forest
// (augmented copies), calibrations (so the self-check's accuracy estimate).
const morphology = trainCellClassifier({
  rows, labels: ys.map((k) => CLASSES[k]!), classNames: CLASSES, features: 'morphology', classMap: 'test', trees: 12, maxDepth: 8, seed: 3, testFraction: 0,
  augmented: { rows: rows.map((r) => r.map((v) => v + 0.1 * standardNormal(rng))), of: ys.map((_, i) => i) },
}).classifier;
const latent = trainCellClassifier({ rows, labels: ys.map((k) => CLASSES[k]!), classNames: CLASSES, features: 'latent', classMap: 'test', trees: 8, maxDepth: 6, testFraction: 0.2 }).classifier;
/** A lab of n cells of a blood-like mix, its colour shifted. */
const lab = (n: number, shift: number): FeatureMatrix => {
  const data = new Float64Array(n * MORPHOLOGY_LENGTH);
  for (let i = 0; i < n; i++) data.set(row(i % 10 < 6 ? 0 : i % 10 < 9 ? 1 : 2, shift), i * MORPHOLOGY_LENGTH);
  return { data, rows: n, cols: MORPHOLOGY_LENGTH };
};
const never = { cancelled: () => false };

test('the classify stage in the worker gives the in-thread verdicts, stain step, consensus and self-check', async () => {
  assert.ok(morphology.stain && morphology.plainForest && morphology.calibration, 'the classifier exercises every part');
  const shifted = lab(240, 0.6);
  const far = lab(240, 3);
  const cases: Array<[string, typeof morphology, FeatureMatrix, ClassifyOptions]> = [
    ['morphology, a lab like the training cells (plain forest)', morphology, lab(240, 0), {}],
    ['morphology, a shifted lab, stain step auto', morphology, shifted, {}],
    ['morphology, a shifted lab, consensus', morphology, shifted, { consensus: true }],
    ['morphology, a lab far off (self-check fails)', morphology, far, { consensus: true }],
    ['morphology, adaptive always', morphology, shifted, { stainAdaptation: 'always' }],
    ['morphology, offsets given', morphology, shifted, { offsets: new Map([[MORPHOLOGY_COLOUR_COLUMNS[0]!, -0.6]]) }],
    ['latent, consensus', latent, lab(200, 0), { consensus: true }],
    ['no cells', morphology, { data: new Float64Array(0), rows: 0, cols: MORPHOLOGY_LENGTH }, {}],
  ];
  const checks = new Set<string>();
  for (const [name, clf, x, opts] of cases) {
    const inThread = classifyCells(clf, x, opts);
    const out = await classifyCellsInWorker(clf, x, opts, never);
    assert.equal(out.status, 'classified', name);
    if (out.status !== 'classified') return;
    const { status: _status, ...classified } = out;
    assert.deepStrictEqual(classified, inThread, name);
    if (inThread.selfCheck) checks.add(inThread.selfCheck.status);
  }
  // What the cases covered: each outcome of the self-check, stain steps that moved a lab, a consensus.
  assert.deepEqual([...checks].sort(), ['failed', 'passed', 'warning']);
  const shown = classifyCells(morphology, shifted, { consensus: true });
  assert.ok(shown.stain && shown.consensus && shown.verdicts.some((v) => !v.flagged), 'stain, consensus and classes all reported');
  // The caller's rows are copied, not taken.
  assert.equal(shifted.data.length, 240 * MORPHOLOGY_LENGTH);
});

test("self-training in the worker reports each tree of its refit and gives the in-thread verdicts", async () => {
  const keeping = trainCellClassifier({
    rows, labels: ys.map((k) => CLASSES[k]!), classNames: CLASSES, features: 'morphology', classMap: 'test', trees: 12, maxDepth: 8, seed: 3, testFraction: 0,
    augmented: { rows: rows.map((r) => r.map((v) => v + 0.1 * standardNormal(rng))), of: ys.map((_, i) => i) }, keepTrainingCells: true,
  }).classifier;
  const shifted = lab(240, 0.6);
  const trees: Array<[number, number]> = [];
  const inThread = classifyCells(keeping, shifted, { selfTraining: true, onSelfTrainingTree: (d, t) => trees.push([d, t]) });
  assert.equal(inThread.selfTraining?.applied, true, inThread.selfTraining?.note);
  assert.deepEqual(trees, Array.from({ length: 12 }, (_, i) => [i + 1, 12]));
  const fromWorker: Array<[number, number]> = [];
  const out = await classifyCellsInWorker(keeping, shifted, { selfTraining: true, onSelfTrainingTree: () => assert.fail('the function crossed into the worker') }, { ...never, onSelfTrainingTree: (d, t) => fromWorker.push([d, t]) });
  assert.equal(out.status, 'classified');
  if (out.status !== 'classified') return;
  assert.deepEqual(fromWorker, trees);
  const { status: _status, ...classified } = out;
  assert.deepStrictEqual(classified, inThread);
});

test('cancelling terminates the worker at once; an already cancelled job starts none', async () => {
  // Consensus over 40,000 cells takes the worker most of a minute; the request comes 500 ms in, and the call ends
  // cancelled rather than classified (no time is asserted; the exit code is not asked for: on a loaded machine the
  // worker may still be starting then).
  const big = lab(40_000, 0);
  const t0 = Date.now();
  const out = await classifyCellsInWorker(morphology, big, { consensus: true }, { cancelled: () => Date.now() - t0 > 500, pollMs: 20 });
  assert.equal(out.status, 'cancelled');
  assert.deepEqual(await classifyCellsInWorker(morphology, big, {}, { cancelled: () => true }), { status: 'cancelled', exitCode: null });
});

test("the classify stage's own error comes back as the job's error", async () => {
  const bad = { ...morphology, novelty: { ...morphology.novelty, numFeatures: 3 } };
  assert.throws(() => classifyCells(bad, lab(50, 0)), /novelty score: 59 features, the model was fitted on 3/);
  await assert.rejects(classifyCellsInWorker(bad, lab(50, 0), {}, never), /novelty score: 59 features, the model was fitted on 3/);
  const narrow = { data: new Float64Array(50 * 5), rows: 50, cols: 5 };
  await assert.rejects(classifyCellsInWorker(morphology, narrow, {}, never), /random forest predict: non-finite value NaN at row 0, column 5/);
});
