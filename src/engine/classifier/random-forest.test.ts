import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitRandomForest, predict, predictProba, resolveMaxFeatures } from './random-forest.js';
import { forestFromJson, forestToJson, serializeForest, deserializeForest } from './forest-json.js';
import { gaussianClusters } from './synthetic-data.js';
import { matrixFromRows, type FeatureMatrix } from './feature-matrix.js';

function accuracy(pred: Int32Array, y: Int32Array): number {
  let ok = 0;
  for (let i = 0; i < y.length; i++) if (pred[i] === y[i]) ok++;
  return ok / y.length;
}

test('separable clusters are classified (almost) perfectly', () => {
  // One draw cut in two: same centres, independent noise.
  const all = gaussianClusters({ rows: 900, cols: 8, classes: 3, separation: 6, seed: 2 });
  const x = all.x;
  const cut = 600 * x.cols;
  const xTrain: FeatureMatrix = { data: x.data.subarray(0, cut), rows: 600, cols: x.cols };
  const xTest: FeatureMatrix = { data: x.data.subarray(cut), rows: 300, cols: x.cols };
  const forest = fitRandomForest(xTrain, all.y.subarray(0, 600), { nEstimators: 20, seed: 3 });
  assert.ok(accuracy(predict(forest, xTest), all.y.subarray(600)) >= 0.99);
  assert.equal(accuracy(predict(forest, xTrain), all.y.subarray(0, 600)), 1);
});

test('noisy data: test accuracy is close to the Bayes rate', () => {
  // Two classes at -1 and +1 on feature 0, unit noise, four pure-noise features: the Bayes classifier
  // (sign of feature 0) scores Phi(1) = 0.8413.
  const centers = [
    [-1, 0, 0, 0, 0],
    [1, 0, 0, 0, 0],
  ];
  const data = gaussianClusters({ rows: 8000, cols: 5, classes: 2, centers, seed: 7 });
  const half = 4000;
  const xTrain: FeatureMatrix = { data: data.x.data.subarray(0, half * 5), rows: half, cols: 5 };
  const xTest: FeatureMatrix = { data: data.x.data.subarray(half * 5), rows: half, cols: 5 };
  const forest = fitRandomForest(xTrain, data.y.subarray(0, half), { nEstimators: 40, minSamplesLeaf: 5, seed: 1 });
  const acc = accuracy(predict(forest, xTest), data.y.subarray(half));
  const bayes = 0.8413;
  // Test-set noise alone is about 0.006 (1 sd); the forest may fall a little short of Bayes.
  assert.ok(acc > bayes - 0.04 && acc < bayes + 0.02, `accuracy ${acc} not near Bayes ${bayes}`);
  // The informative feature dominates the importances.
  const imp = forest.featureImportances;
  assert.ok(imp[0] > 0.5, `importance of feature 0 is ${imp[0]}`);
  assert.ok(Math.abs(imp.reduce((a, b) => a + b, 0) - 1) < 1e-9);
});

test('same seed gives identical forests and predictions; another seed another forest', () => {
  const { x, y } = gaussianClusters({ rows: 800, cols: 12, classes: 4, separation: 0.8, seed: 11 });
  const a = fitRandomForest(x, y, { nEstimators: 15, seed: 42 });
  const b = fitRandomForest(x, y, { nEstimators: 15, seed: 42 });
  const c = fitRandomForest(x, y, { nEstimators: 15, seed: 43 });
  assert.deepEqual(predictProba(a, x), predictProba(b, x));
  assert.equal(forestToJson(a), forestToJson(b));
  assert.notEqual(forestToJson(a), forestToJson(c));
  assert.notDeepEqual(predictProba(a, x), predictProba(c, x));
});

test('JSON round trip keeps probabilities bit-identical', () => {
  const { x, y } = gaussianClusters({ rows: 500, cols: 10, classes: 3, separation: 0.7, seed: 5 });
  const forest = fitRandomForest(x, y, { nEstimators: 10, seed: 9, classNames: ['a', 'b', 'c'] });
  const loaded = forestFromJson(forestToJson(forest));
  assert.deepEqual(predictProba(loaded, x), predictProba(forest, x));
  assert.deepEqual(loaded.featureImportances, forest.featureImportances);
  assert.deepEqual(loaded.classNames, ['a', 'b', 'c']);
  assert.deepEqual(loaded.params, forest.params);
  // Probabilities of each row sum to 1.
  const p = predictProba(loaded, x);
  for (let r = 0; r < x.rows; r++) assert.ok(Math.abs(p[3 * r] + p[3 * r + 1] + p[3 * r + 2] - 1) < 1e-6);

  const saved = serializeForest(forest);
  assert.throws(() => deserializeForest({ ...saved, version: 99 }), /version 99 is not supported/);
  assert.throws(() => deserializeForest({ ...saved, format: 'other' }), /format is other/);
  assert.throws(() => deserializeForest({ ...saved, trees: [{ ...saved.trees[0], next: 'AAAAAA==' }] }), /differ in length/);
});

test('class weights shift predictions toward the weighted class', () => {
  // 90 % class 0, 10 % class 1, heavily overlapping.
  const data = gaussianClusters({
    rows: 3000,
    cols: 4,
    classes: 2,
    centers: [
      [0, 0, 0, 0],
      [0.8, 0.8, 0, 0],
    ],
    proportions: [0.9, 0.1],
    seed: 21,
  });
  const opts = { nEstimators: 30, minSamplesLeaf: 10, seed: 2 } as const;
  const plain = predict(fitRandomForest(data.x, data.y, opts), data.x);
  const balanced = predict(fitRandomForest(data.x, data.y, { ...opts, classWeight: 'balanced' }), data.x);
  const manual = predict(fitRandomForest(data.x, data.y, { ...opts, classWeight: [1, 20] }), data.x);
  const ones = (p: Int32Array): number => p.reduce((s, v) => s + v, 0);
  assert.ok(ones(balanced) > 2 * ones(plain), `balanced predicts class 1 ${ones(balanced)} times, unweighted ${ones(plain)}`);
  assert.ok(ones(manual) > ones(plain));
});

test('sample weights: a row counts by its weight in the leaves, like a class weight when they go by class', () => {
  // One distinct value: every tree is one leaf, whose class mix is the rows' weight per class.
  const x = matrixFromRows([[1], [1], [1], [1]]);
  const y = [0, 0, 1, 1];
  const one = { nEstimators: 1, bootstrap: false } as const;
  assert.deepEqual(Array.from(predictProba(fitRandomForest(x, y, one), x).subarray(0, 2)), [0.5, 0.5]);
  assert.deepEqual(Array.from(predictProba(fitRandomForest(x, y, { ...one, sampleWeight: [1, 1, 3, 3] }), x).subarray(0, 2)), [0.25, 0.75]);
  assert.deepEqual(Array.from(predictProba(fitRandomForest(x, y, { ...one, sampleWeight: [1, 3, 2, 2] }), x).subarray(0, 2)), [0.5, 0.5]);

  // With bootstraps and splits: weights that go by class give the class-weighted forest exactly, weights of one
  // (or of any one power of two, which scales every sum exactly) the unweighted one.
  const data = gaussianClusters({ rows: 600, cols: 6, classes: 2, separation: 0.6, seed: 8 });
  const opts = { nEstimators: 8, seed: 5 } as const;
  const plain = forestToJson(fitRandomForest(data.x, data.y, opts));
  assert.equal(forestToJson(fitRandomForest(data.x, data.y, { ...opts, sampleWeight: new Float64Array(600).fill(1) })), plain);
  assert.deepEqual(
    predictProba(fitRandomForest(data.x, data.y, { ...opts, sampleWeight: new Float64Array(600).fill(4) }), data.x),
    predictProba(fitRandomForest(data.x, data.y, opts), data.x),
  );
  const byClass = fitRandomForest(data.x, data.y, { ...opts, sampleWeight: Float64Array.from(data.y, (c) => (c === 1 ? 3 : 1)) });
  const classWeighted = fitRandomForest(data.x, data.y, { ...opts, classWeight: [1, 3] });
  assert.deepEqual(predictProba(byClass, data.x), predictProba(classWeighted, data.x));
  assert.notDeepEqual(predictProba(byClass, data.x), predictProba(fitRandomForest(data.x, data.y, opts), data.x));
});

test('sample weights: wrong length or a weight that is not finite and positive throws', () => {
  const { x, y } = gaussianClusters({ rows: 20, cols: 2, classes: 2, seed: 1 });
  assert.throws(() => fitRandomForest(x, y, { sampleWeight: new Float64Array(19).fill(1) }), /19 sample weights for 20 rows/);
  const w = new Float64Array(20).fill(1);
  w[3] = 0;
  assert.throws(() => fitRandomForest(x, y, { sampleWeight: w }), /finite and > 0, got 0 at row 3/);
  w[3] = NaN;
  assert.throws(() => fitRandomForest(x, y, { sampleWeight: w }), /got NaN at row 3/);
});

test('treeRows: a tree fits only the rows it is given; every row given is the plain forest', () => {
  const x = matrixFromRows([[1], [1], [1], [1]]);
  const y = [0, 0, 1, 1];
  // Tree 0 sees rows 0 and 1 (class 0 only), tree 1 all four: the mean of [1, 0] and [0.5, 0.5].
  const split = fitRandomForest(x, y, { nEstimators: 2, bootstrap: false, treeRows: (t) => (t === 0 ? [0, 1] : null) });
  assert.deepEqual(Array.from(predictProba(split, x).subarray(0, 2)), [0.75, 0.25]);

  const data = gaussianClusters({ rows: 300, cols: 5, classes: 3, separation: 0.7, seed: 9 });
  const opts = { nEstimators: 6, seed: 4 } as const;
  const all = Int32Array.from({ length: 300 }, (_, i) => i);
  assert.equal(forestToJson(fitRandomForest(data.x, data.y, { ...opts, treeRows: () => all })), forestToJson(fitRandomForest(data.x, data.y, opts)));
  // Trees on the first half only never draw a row of the second: leaves hold class mixes of those rows alone.
  const firstHalf = all.subarray(0, 150);
  const onlyClass0 = Int32Array.from(firstHalf.filter((i) => data.y[i] === 0));
  const pure = fitRandomForest(data.x, data.y, { ...opts, numClasses: 3, treeRows: () => onlyClass0 });
  assert.ok(Array.from(predict(pure, data.x)).every((c) => c === 0));
  assert.throws(() => fitRandomForest(data.x, data.y, { ...opts, treeRows: () => [3, 2] }), /tree 0's rows must be ascending indices below 300, got 2 at 1/);
  assert.throws(() => fitRandomForest(data.x, data.y, { ...opts, treeRows: () => [] }), /tree 0 was given no rows/);
});

test('hyper-parameters: maxDepth bounds the tree, maxFeatures resolves like scikit-learn', () => {
  const { x, y } = gaussianClusters({ rows: 400, cols: 16, classes: 2, separation: 0.5, seed: 4 });
  const stump = fitRandomForest(x, y, { nEstimators: 3, maxDepth: 1 });
  for (const t of stump.trees) assert.equal(t.feature.length, 3);
  const deep = fitRandomForest(x, y, { nEstimators: 1, maxDepth: null, bootstrap: false, maxFeatures: 'all' });
  assert.equal(accuracy(predict(deep, x), y), 1);
  assert.equal(resolveMaxFeatures('sqrt', 50), 7);
  assert.equal(resolveMaxFeatures('log2', 256), 8);
  assert.equal(resolveMaxFeatures(0.5, 10), 5);
  assert.equal(resolveMaxFeatures(100, 10), 10);
});

test('a single distinct value per feature gives one-leaf trees', () => {
  const x = matrixFromRows([
    [1, 2],
    [1, 2],
    [1, 2],
  ]);
  const forest = fitRandomForest(x, [0, 1, 1], { nEstimators: 2 });
  for (const t of forest.trees) assert.equal(t.feature.length, 1);
  assert.equal(predictProba(forest, x).length, 6);
});

test('bad input throws a clear Error', () => {
  const { x, y } = gaussianClusters({ rows: 50, cols: 3, classes: 2, seed: 1 });
  assert.throws(() => fitRandomForest(x, y.subarray(0, 49)), /49 labels for 50 rows/);
  assert.throws(() => fitRandomForest({ data: new Float32Array(0), rows: 0, cols: 3 }, []), /empty feature matrix/);
  const withNaN = Float32Array.from(x.data);
  withNaN[7] = NaN;
  assert.throws(() => fitRandomForest({ ...x, data: withNaN }, y), /non-finite value NaN at row 2, column 1/);
  assert.throws(() => fitRandomForest(x, Int32Array.from(y, (v) => v - 1)), /label -1 at row 0/);
  assert.throws(() => fitRandomForest(x, y, { nEstimators: 0 }), /nEstimators/);
  assert.throws(() => fitRandomForest(x, y, { classWeight: [1, -1] }), /class weights/);
  assert.throws(() => matrixFromRows([[1, 2], [3]]), /row 1 has 1 values/);
  const forest = fitRandomForest(x, y, { nEstimators: 2 });
  assert.throws(() => predict(forest, { data: new Float32Array(4), rows: 2, cols: 2 }), /2 features, the model was fitted on 3/);
  assert.throws(() => predict(forest, { data: new Float32Array(3).fill(NaN), rows: 1, cols: 3 }), /non-finite/);
});
