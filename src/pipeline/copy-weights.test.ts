import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyOptions } from './copy-weights.js';
import { trainCellClassifier } from './classifier-training.js';

test('copy options follow the layout [cells | copies | others]: copies weighted, plain trees without them', () => {
  const o = copyOptions(3, 2, 1, { augmentWeight: 0.5, plainTrees: 2 });
  assert.deepEqual(Array.from(o.sampleWeight!), [1, 1, 1, 0.5, 0.5, 1]);
  assert.deepEqual(Array.from(o.treeRows!(0)!), [0, 1, 2, 5]);
  assert.deepEqual(Array.from(o.treeRows!(1)!), [0, 1, 2, 5]);
  assert.equal(o.treeRows!(2), null);
  // The default recipe, or no copies: every row alike (null, so that a bigger layout's options are replaced).
  assert.deepEqual(copyOptions(3, 2, 1, { augmentWeight: 1, plainTrees: 0 }), { sampleWeight: null, treeRows: null });
  assert.deepEqual(copyOptions(3, 0, 1, { augmentWeight: 0.5, plainTrees: 2 }), { sampleWeight: null, treeRows: null });
});

test('the cross-fitted calibration fits its fold forests with the same copy recipe, each on its own rows', () => {
  // 40 cells, two copies each: the fold forests have fewer rows than the classifier's, so the classifier's per-row
  // options must not leak into them (they would not fit: 96 rows against 120 weights).
  const rows = Array.from({ length: 40 }, (_, i) => Float64Array.from([i % 2, (i * 7) % 5]));
  const labels = rows.map((_, i) => (i % 2 ? 'b' : 'a'));
  const of = rows.flatMap((_, i) => [i, i]);
  const augmented = { rows: of.map((i) => Float64Array.from([rows[i]![0]! + 0.1, rows[i]![1]!])), of };
  const base = { rows, labels, classNames: ['a', 'b'], features: 'latent' as const, classMap: 'test', trees: 10, seed: 1, testFraction: 0, calibrationFolds: 5, augmented };
  const c = trainCellClassifier({ ...base, augmentWeight: 0.5, plainTreeShare: 0.5 }).classifier.calibration;
  assert.ok(c && c.source === 'cross-fitted' && c.cells === 40, JSON.stringify(c));
  assert.equal(c.accuracy, 1);
});
