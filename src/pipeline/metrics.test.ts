import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accuracy, balancedAccuracy, classificationReport, confusionMatrix, macroF1, perClassMetrics, wilsonInterval } from './metrics.js';

// Hand-computed example. True / predicted:
//   cat: 3 rows -> cat, cat, dog
//   dog: 2 rows -> dog, bird
//   bird: 1 row -> bird
// matrix (rows true, columns predicted, labels sorted: bird, cat, dog):
//   bird [1, 0, 0]
//   cat  [0, 2, 1]
//   dog  [1, 0, 1]
const yTrue = ['cat', 'cat', 'cat', 'dog', 'dog', 'bird'];
const yPred = ['cat', 'cat', 'dog', 'dog', 'bird', 'bird'];

test('confusion matrix: rows are true labels, columns predictions, labels sorted', () => {
  const cm = confusionMatrix(yTrue, yPred);
  assert.deepEqual(cm.labels, ['bird', 'cat', 'dog']);
  assert.deepEqual(cm.matrix, [
    [1, 0, 0],
    [0, 2, 1],
    [1, 0, 1],
  ]);
  const ordered = confusionMatrix(yTrue, yPred, ['cat', 'dog', 'bird', 'frog']);
  assert.deepEqual(ordered.matrix, [
    [2, 1, 0, 0],
    [0, 1, 1, 0],
    [0, 0, 1, 0],
    [0, 0, 0, 0],
  ]);
  assert.deepEqual(confusionMatrix([2, 10, 10], [10, 10, 2]).labels, [2, 10]);
});

test('accuracy, balanced accuracy and per-class metrics match hand computation', () => {
  const cm = confusionMatrix(yTrue, yPred);
  assert.equal(accuracy(cm), 4 / 6);
  // Recalls: bird 1/1, cat 2/3, dog 1/2.
  assert.ok(Math.abs(balancedAccuracy(cm) - (1 + 2 / 3 + 1 / 2) / 3) < 1e-12);
  const m = perClassMetrics(cm);
  // bird: precision 1/2, recall 1, f1 2/3. cat: 1, 2/3, 0.8. dog: 1/2, 1/2, 1/2.
  const expected = [
    { label: 'bird', precision: 0.5, recall: 1, f1: 2 / 3, support: 1 },
    { label: 'cat', precision: 1, recall: 2 / 3, f1: 0.8, support: 3 },
    { label: 'dog', precision: 0.5, recall: 0.5, f1: 0.5, support: 2 },
  ];
  m.forEach((got, i) => {
    const want = expected[i];
    assert.equal(got.label, want.label);
    assert.equal(got.support, want.support);
    for (const key of ['precision', 'recall', 'f1'] as const) assert.ok(Math.abs(got[key] - want[key]) < 1e-12, `${want.label} ${key}`);
  });
});

test('macro F1 only over classes with enough support, the rest listed', () => {
  const cm = confusionMatrix(yTrue, yPred);
  const two = macroF1(cm, 2);
  assert.deepEqual(two.included, ['cat', 'dog']);
  assert.deepEqual(two.excluded, ['bird']);
  assert.ok(Math.abs((two.macroF1 ?? NaN) - (0.8 + 0.5) / 2) < 1e-12);
  const all = macroF1(cm, 1);
  assert.ok(Math.abs((all.macroF1 ?? NaN) - (2 / 3 + 0.8 + 0.5) / 3) < 1e-12);
  assert.equal(macroF1(cm).macroF1, null); // default minSupport 5: no class qualifies
});

test('classification report: a class only ever predicted counts for precision, not balanced accuracy', () => {
  const t = ['a', 'a', 'a', 'a', 'a', 'b', 'b', 'b', 'b', 'b'];
  const p = ['a', 'a', 'a', 'a', 'x', 'b', 'b', 'b', 'a', 'b'];
  const r = classificationReport(t, p);
  assert.equal(r.n, 10);
  assert.deepEqual(r.confusion.labels, ['a', 'b', 'x']);
  assert.deepEqual(r.confusion.matrix, [
    [4, 0, 1],
    [1, 4, 0],
    [0, 0, 0],
  ]);
  assert.equal(r.accuracy, 0.8);
  // 8 of 10: Wilson's 95 % interval, as tabulated (e.g. Newcombe 1998): 0.4902-0.9433.
  assert.ok(Math.abs(r.accuracyCi95[0] - 0.4902) < 1e-4 && Math.abs(r.accuracyCi95[1] - 0.9433) < 1e-4, String(r.accuracyCi95));
  assert.equal(r.balancedAccuracy, 0.8);
  assert.deepEqual(r.macroF1Classes, ['a', 'b']);
  assert.deepEqual(r.excludedClasses, ['x']);
  // a: precision 4/5, recall 4/5; b: precision 1, recall 4/5 -> f1 8/9.
  assert.ok(Math.abs((r.macroF1 ?? NaN) - (0.8 + 8 / 9) / 2) < 1e-12);
  assert.equal(r.perClass[2].precision, 0);
  assert.equal(r.perClass[2].f1, 0);
});

test('Wilson interval: hand-computed values, the edges stay inside [0, 1], and it narrows with n', () => {
  // 69 of 100 (Zheng DS2's size): centre (0.69 + z^2/200) / (1 + z^2/100), half-width z sqrt(0.69 * 0.31 / 100 + z^2/40000) / (1 + z^2/100).
  const [lo, hi] = wilsonInterval(69, 100);
  assert.ok(Math.abs(lo - 0.5937) < 1e-4 && Math.abs(hi - 0.7722) < 1e-4, `${lo} ${hi}`);
  // 0 of 10: lower bound 0, upper z^2/n / (1 + z^2/n) = 0.2775.
  const [lo0, hi0] = wilsonInterval(0, 10);
  assert.equal(lo0, 0);
  assert.ok(Math.abs(hi0 - 0.2775) < 1e-4, String(hi0));
  const [lo1, hi1] = wilsonInterval(10, 10);
  assert.ok(Math.abs(lo1 - (1 - 0.2775)) < 1e-4, String(lo1));
  assert.equal(hi1, 1);
  const wide = wilsonInterval(69, 100);
  const narrow = wilsonInterval(690, 1000);
  assert.ok(narrow[1] - narrow[0] < (wide[1] - wide[0]) / 3);
  assert.throws(() => wilsonInterval(1, 0), /n must be a positive integer/);
  assert.throws(() => wilsonInterval(11, 10), /successes must be an integer in \[0, 10\]/);
  assert.throws(() => wilsonInterval(1.5, 10), /successes must be an integer/);
});

test('bad input throws a clear Error', () => {
  assert.throws(() => confusionMatrix(['a'], ['a', 'b']), /1 true labels but 2 predictions/);
  assert.throws(() => confusionMatrix([], []), /no rows/);
  assert.throws(() => confusionMatrix(['a'], ['z'], ['a', 'b']), /predicted label z at row 0/);
  assert.throws(() => confusionMatrix(['a'], ['a'], ['a', 'a']), /listed twice/);
  assert.throws(() => classificationReport(['a'], ['a'], { minSupport: -1 }), /minSupport/);
});
