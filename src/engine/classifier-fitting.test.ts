import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitCellClassifierInWorker } from './classifier-fitting.js';
import { trainCellClassifier, type ClassifierTrainingInput } from '../pipeline/classifier-training.js';
import { classifierToJson } from './classifier/classifier-artifact.js';
import { createRng } from './classifier/rng.js';
import { standardNormal } from './classifier/synthetic-data.js';
import { MORPHOLOGY_LENGTH } from '../imaging/cell-morphology.js';

const CLASSES = ['a', 'b', 'c'];
const rng = createRng(11);
const centres = CLASSES.map(() => Array.from({ length: MORPHOLOGY_LENGTH }, () => standardNormal(rng)));
const row = (k: number) => Float64Array.from({ length: MORPHOLOGY_LENGTH }, (_, c) => centres[k]![c]! + 0.9 * standardNormal(rng));
const ys = Array.from({ length: 120 }, (_, i) => i % 3);
const rows = ys.map(row);
const labels = ys.map((k) => CLASSES[k]!);
// Every piece a shipped morphology classifier has: augmented copies (so the plain forest and the routing profile),
// reviewed cells, the stain reference and shape forest, cross-fitted calibrations (testFraction 0).
const augmented = { rows: rows.map((r) => r.map((v) => v + 0.1 * standardNormal(rng))), of: ys.map((_, i) => i) };
const reviewedY = [0, 1, 2, 0, 1, 2];
const input: ClassifierTrainingInput = {
  rows, labels, classNames: CLASSES, features: 'morphology', classMap: 'test', trees: 12, maxDepth: 8, seed: 7, testFraction: 0,
  augmented, reviewed: { rows: reviewedY.map(row), labels: reviewedY.map((k) => CLASSES[k]!), share: 0.2 },
};

test('a classifier fitted in the worker is the in-thread one, byte for byte, and the main thread stays free meanwhile', async () => {
  for (const testFraction of [0, 0.25]) {
    const inThread = trainCellClassifier({ ...input, testFraction });
    const trees: number[] = [];
    let ticks = 0;
    const tick = setInterval(() => ticks++, 10);
    const fit = await fitCellClassifierInWorker({ ...input, testFraction, onTree: (done) => trees.push(done) }, { cancelled: () => false });
    clearInterval(tick);
    assert.equal(fit.status, 'fitted');
    if (fit.status !== 'fitted') return;
    assert.ok(inThread.classifier.plainForest && inThread.classifier.shapeForest && inThread.classifier.calibration, 'the input exercises every part');
    assert.equal(fit.json, classifierToJson(inThread.classifier));
    assert.deepEqual(fit.split, inThread.split);
    assert.deepEqual(fit.heldOut, inThread.heldOut);
    assert.equal(fit.reviewCopies, inThread.reviewCopies);
    assert.deepEqual(fit.classNames, inThread.classifier.classNames);
    assert.deepEqual(fit.calibration, inThread.classifier.calibration);
    // The main forest's trees came back as progress, in order.
    assert.deepEqual(trees, Array.from({ length: 12 }, (_, i) => i + 1));
    assert.ok(ticks > 0, 'timers ran while the worker fitted');
  }
});

test('cancelling terminates the worker: the fit stops at once instead of running to its end', async () => {
  // 20,000 deep trees on 2,000 cells take minutes; the request comes with the first tree.
  const big = Array.from({ length: 2000 }, (_, i) => row(i % 3));
  let asked = false;
  let after = 0;
  const t0 = Date.now();
  const fit = await fitCellClassifierInWorker(
    { rows: big, labels: big.map((_, i) => CLASSES[i % 3]!), classNames: CLASSES, features: 'latent', classMap: 'test', trees: 20_000, maxDepth: 16, testFraction: 0, onTree: () => { if (asked) after++; asked = true; } },
    { cancelled: () => asked, pollMs: 50 },
  );
  assert.equal(fit.status, 'cancelled');
  if (fit.status !== 'cancelled') return;
  assert.equal(fit.exitCode, 1, 'terminated, not ended');
  assert.ok(fit.treesDone < 20_000);
  assert.equal(after, 0, 'no progress after the cancel request');
  assert.ok(Date.now() - t0 < 10_000, `${Date.now() - t0} ms`);
  // Already cancelled: no worker starts.
  assert.deepEqual(await fitCellClassifierInWorker(input, { cancelled: () => true }), { status: 'cancelled', treesDone: 0, exitCode: null });
});

test('bad input comes back as the training\'s own error, not a crash', async () => {
  const never = { cancelled: () => false };
  await assert.rejects(fitCellClassifierInWorker({ ...input, labels: labels.map(() => 'a'), reviewed: undefined }, never), /need cells of at least 2 classes, found 1/);
  await assert.rejects(fitCellClassifierInWorker({ ...input, labels: labels.slice(1) }, never), /120 rows, 119 labels/);
  await assert.rejects(fitCellClassifierInWorker({ ...input, reviewed: { rows: [new Float64Array(3)], labels: ['a'] } }, never), /reviewed row 0 has 3 values, expected 59/);
  await assert.rejects(fitCellClassifierInWorker({ ...input, plainTreeShare: 2 }, never), /plainTreeShare must be in \[0, 1\]/);
  await assert.rejects(fitCellClassifierInWorker({ ...input, onTree: () => { throw new Error('progress broke'); } }, never), /progress broke/);
});
