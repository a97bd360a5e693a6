import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitShapeForest, mixClassifiers, stainFreeColumns } from './stain-mix-forest.js';
import { fitRandomForest } from './random-forest.js';
import { createRng } from './rng.js';
import { stainReference } from './stain-shift.js';

// Rows of 4 values: columns 0 and 2 carry the class (shape), 1 and 3 are stain (noise that a lab may shift).
const rng = createRng(4);
const rows = Array.from({ length: 200 }, (_, i) => {
  const k = i % 2;
  return [k * 4 + rng.next(), rng.next() * 10, k * 4 + rng.next(), rng.next() * 10];
});
const y = rows.map((_, i) => i % 2);
const labels = y.map((k) => (k ? 'b' : 'a'));
const ref = stainReference(rows, rows, labels, [1, 3], ['a', 'b']);

test('stainFreeColumns: every column the reference does not hold stain-dependent', () => {
  assert.deepEqual(stainFreeColumns(ref, 4), [0, 2]);
  assert.deepEqual(stainFreeColumns(ref, 5), [0, 2, 4]);
});

test('the shape forest reads only the stain-free columns: a lab\'s stain does not move its verdicts', () => {
  const shape = fitShapeForest(rows, y, ref, 4, { nEstimators: 10, maxDepth: 4, seed: 1, numClasses: 2 });
  assert.equal(shape.numFeatures, 2);
  const full = fitRandomForest({ data: Float64Array.from(rows.flat()), rows: rows.length, cols: 4 }, y, { nEstimators: 10, maxDepth: 4, seed: 1, numClasses: 2 });
  const { shapeProba, proba } = mixClassifiers(shape, full, ref);
  const lab = [[0.5, 3, 0.5, 3], [4.5, 7, 4.5, 7]];
  const stained = lab.map((r) => [r[0]!, r[1]! + 100, r[2]!, r[3]! - 100]);
  assert.deepEqual(Array.from(shapeProba(stained)), Array.from(shapeProba(lab)));
  const p = Array.from(shapeProba(lab));
  assert.equal(p.length, 4);
  assert.ok(p[0]! > 0.9 && p[3]! > 0.9, p.join(', '));
  assert.equal(proba(lab).length, 4);
  assert.throws(() => mixClassifiers(full, full, ref), /shape forest reads 4 values, the stain-free columns are 2/);
  assert.throws(() => fitShapeForest(rows, y, stainReference(rows, rows, labels, [0, 1, 2, 3]), 4, {}), /every column is stain-dependent/);
});
