import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crossFittedCalibration, crossFittedProba, stratifiedFolds } from './confidence-calibration.js';
import { trainCellClassifier } from './classifier-training.js';
import { createRng } from '../engine/classifier/rng.js';
import { standardNormal } from '../engine/classifier/synthetic-data.js';

const rng = createRng(5);
/** Two overlapping Gaussian classes in 4 dimensions (about 85 % separable). */
const cell = (k: number) => Float64Array.from({ length: 4 }, (_, c) => (c < 2 ? (k ? 1.1 : -1.1) : 0) + standardNormal(rng));
const y = Array.from({ length: 300 }, (_, i) => i % 2);
const rows = y.map(cell);

test('folds keep every class spread over every fold', () => {
  const f = stratifiedFolds(y, 5, 1);
  for (let k = 0; k < 5; k++) {
    const inFold = y.filter((_, i) => f[i] === k);
    assert.equal(inFold.length, 60);
    assert.equal(inFold.filter((c) => c === 1).length, 30);
  }
});

test('copies of a cell leave the training rows with it: a cross-fitted forest never saw the cell it scores', () => {
  // Each "copy" is its cell exactly: if a copy stayed in training while its cell was scored, the forest would recall
  // the cell's label and the out-of-fold accuracy would be near 100 %.
  const forest = { nEstimators: 20, maxDepth: 12, numClasses: 2, seed: 3 };
  const withCopies = crossFittedCalibration({ rows, y, augmented: { rows: [...rows, ...rows], of: [...y.keys(), ...y.keys()] }, seed: 1, forest });
  const plain = crossFittedCalibration({ rows, y, seed: 1, forest });
  assert.ok(withCopies.accuracy < 0.93, `out-of-fold accuracy ${withCopies.accuracy}`);
  assert.ok(Math.abs(withCopies.accuracy - plain.accuracy) < 0.06, `${withCopies.accuracy} vs ${plain.accuracy}`);
  assert.equal(withCopies.source, 'cross-fitted');
  assert.equal(withCopies.cells, 300);
  // Every cell got probabilities that sum to one.
  const p = crossFittedProba({ rows, y, seed: 1, forest });
  for (let i = 0; i < 300; i++) assert.ok(Math.abs(p[2 * i]! + p[2 * i + 1]! - 1) < 1e-9);
});

test('training keeps a calibration: held-out when it holds cells out, cross-fitted when it does not, none on request', () => {
  const labels = y.map((k) => (k ? 'b' : 'a'));
  const base = { rows, labels, classNames: ['a', 'b'], features: 'morphology' as const, classMap: 'test', trees: 15, maxDepth: 8, seed: 2, stain: false };
  const held = trainCellClassifier({ ...base, testFraction: 0.2 });
  assert.equal(held.classifier.calibration?.source, 'held-out');
  assert.equal(held.classifier.calibration?.cells, 60);
  assert.ok(Math.abs(held.classifier.calibration!.accuracy - held.heldOut!.accuracy) < 1e-12);
  const all = trainCellClassifier({ ...base, testFraction: 0 });
  assert.equal(all.classifier.calibration?.source, 'cross-fitted');
  assert.equal(all.classifier.calibration?.cells, 300);
  // The cross-fitted accuracy is an unseen-cell accuracy, not the training cells' (near 100 % for a deep forest).
  assert.ok(all.classifier.calibration!.accuracy > 0.7 && all.classifier.calibration!.accuracy < 0.95, String(all.classifier.calibration!.accuracy));
  assert.equal(trainCellClassifier({ ...base, testFraction: 0, calibrationFolds: 0 }).classifier.calibration, null);
  // Latent classifiers run no confidence check: none by default.
  assert.equal(trainCellClassifier({ ...base, features: 'latent', testFraction: 0 }).classifier.calibration, null);
});

test('with augmented copies, training also keeps a plain forest calibrated without them, and the routing profile', () => {
  const labels = y.map((k) => (k ? 'b' : 'a'));
  const base = { rows, labels, classNames: ['a', 'b'], features: 'morphology' as const, classMap: 'test', trees: 15, maxDepth: 8, seed: 2, stain: false, testFraction: 0 };
  // Copies identical to their cells: the plain forest must not see them (its cross-fitted accuracy stays an unseen-cell one).
  const augmented = { rows: [...rows, ...rows], of: [...y.keys(), ...y.keys()] };
  const t = trainCellClassifier({ ...base, augmented, plainForest: true }).classifier;
  assert.ok(t.plainForest && t.plainForest !== t.forest);
  assert.equal(t.plainCalibration?.source, 'cross-fitted');
  assert.equal(t.plainCalibration?.cells, 300);
  assert.ok(t.plainCalibration!.accuracy > 0.7 && t.plainCalibration!.accuracy < 0.95, String(t.plainCalibration!.accuracy));
  // The plain calibration is the one a forest fitted on the cells alone gets.
  assert.deepEqual(t.plainCalibration, trainCellClassifier(base).classifier.calibration);
  assert.deepEqual(t.profile?.columns, [0, 1, 2, 3]);
  // Held-out split: the plain forest's own held-out calibration.
  const held = trainCellClassifier({ ...base, testFraction: 0.2, augmented, plainForest: true }).classifier;
  assert.equal(held.plainCalibration?.source, 'held-out');
  assert.equal(held.plainCalibration?.cells, 60);
  // No copies, no second forest; nor by default without the stain step (here stain: false).
  assert.equal(trainCellClassifier(base).classifier.plainForest, undefined);
  assert.equal(trainCellClassifier({ ...base, augmented, stain: false }).classifier.plainForest, undefined);
});
