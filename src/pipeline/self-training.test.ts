import { test } from 'node:test';
import assert from 'node:assert/strict';
import { trainCellClassifier } from './classifier-training.js';
import { classifyLab, MIN_STAIN_CELLS } from './lab-classification.js';
import { selfTrainLab, surestCells, SELF_TRAINING_SHARE } from './self-training.js';
import { classifyCells } from './classify.js';
import { classifierFromJson, classifierToJson } from '../engine/classifier/classifier-artifact.js';
import { argmaxRows } from '../engine/classifier/random-forest.js';
import { createRng } from '../engine/classifier/rng.js';

// Two classes in two columns: column 0 is shape (a near 0-1, b near 3-4), column 1 stain. The training lab's cells
// and one augmented copy each; a target lab whose class b sits nearer the boundary (its cells 1.8-2.8), so that the
// first forest, which saw nothing between 1 and 3, reads part of it as a.
const rng = createRng(3);
const cell = (b: number, lo: number, shift = 0) => [b ? lo + rng.next() : rng.next(), 2 * b + rng.next() + shift];
const train = Array.from({ length: 200 }, (_, i) => cell(i % 2, 3));
const labels = train.map((_, i) => (i % 2 ? 'b' : 'a'));
const copies = { rows: train.map((r) => [r[0]! + 0.05 * rng.next(), r[1]! + 0.05 * rng.next()]), of: train.map((_, i) => i) };
const lab = Array.from({ length: 160 }, (_, i) => cell(i % 2, 1.8, 0.2));
const truth = lab.map((_, i) => (i % 2 ? 'b' : 'a'));
const fit = (keep: boolean) =>
  trainCellClassifier({
    rows: train, labels, classNames: ['a', 'b'], features: 'morphology', classMap: 'test', stainColumns: [1], augmented: copies,
    trees: 15, maxDepth: 6, seed: 2, testFraction: 0, keepTrainingCells: keep,
  }).classifier;
const clf = fit(true);
const accuracy = (proba: Float64Array) => Array.from(argmaxRows(proba, 2)).filter((k, i) => clf.classNames[k] === truth[i]).length / truth.length;
// The lab measures unlike the training cells: the augmented forest reads it, not the plain one.
const opts = { routeLimit: null };

test('a classifier keeps its training cells when asked, in its file too; a refit from the file equals the one from memory', () => {
  assert.equal(fit(false).trainingCells, undefined);
  const tc = clf.trainingCells!;
  assert.equal(tc.rows.rows, 200);
  assert.equal(tc.augmented!.rows.rows, 200);
  assert.deepEqual(Array.from(tc.augmented!.of.slice(0, 3)), [0, 1, 2]);
  assert.equal(tc.stainRows.rows, 200);
  assert.deepEqual(tc.settings.stainColumns, [1]);
  assert.equal(tc.settings.seed, 2);
  const back = classifierFromJson(classifierToJson(clf));
  assert.deepEqual(back.trainingCells, tc);
  const first = classifyLab(clf, lab, opts);
  const a = selfTrainLab(clf, lab, first, opts);
  const b = selfTrainLab(back, lab, classifyLab(back, lab, opts), opts);
  assert.deepEqual(Array.from(b.lab.proba), Array.from(a.lab.proba));
  assert.throws(() => classifierFromJson(classifierToJson({ ...clf, trainingCells: { ...tc, labels: tc.labels.slice(1) } })), /labels do not match/);
});

test("self-training adds each predicted class's surest share, lifts a lab read half wrong, and keeps the first check and flags", () => {
  const first = classifyLab(clf, lab, opts);
  const { lab: again, outcome } = selfTrainLab(clf, lab, first, opts);
  assert.equal(outcome.applied, true);
  const top = argmaxRows(first.proba, 2);
  for (const [k, c] of clf.classNames.entries()) {
    const n = Array.from(top).filter((t) => t === k).length;
    assert.equal(outcome.added[c] ?? 0, Math.round(SELF_TRAINING_SHARE * n), c);
  }
  const before = accuracy(first.proba);
  const after = accuracy(again.proba);
  assert.ok(before < 0.9, `the first forest should misread this lab (${before})`);
  assert.ok(after > before + 0.05, `self-training ${before} -> ${after}`);
  assert.ok(outcome.changed > 0);
  assert.match(outcome.note, /self-training: the \d+ cells the forest was surest of \(40 % of each class's: .*\d+ of 160 cells changed class/);
  // What stays the first classification's.
  assert.equal(again.selfCheck, first.selfCheck);
  assert.equal(again.novel, first.novel);
  assert.equal(again.stain, first.stain);
  assert.equal(again.x, first.x);
  assert.equal(again.views.none, first.views.none);
  assert.notDeepEqual(Array.from(again.views.reported!), Array.from(first.views.reported!));
});

test('surestCells: per predicted class the given share by probability, ties in row order', () => {
  // Rows: a 0.9, b 0.8, a 0.6, a 0.9, b 0.55.
  const p = Float64Array.from([0.9, 0.1, 0.2, 0.8, 0.6, 0.4, 0.9, 0.1, 0.45, 0.55]);
  const { index } = surestCells(p, 2, 0.5);
  assert.deepEqual(index, [0, 3, 1]);
});

test('a lab is left as it is, with the reason, without training cells, with too few cells, when the plain forest reads it, or when its move is fixed', () => {
  const first = classifyLab(clf, lab, opts);
  const none = selfTrainLab({ ...clf, trainingCells: null }, lab, first, opts);
  assert.equal(none.outcome.applied, false);
  assert.equal(none.lab, first);
  assert.match(none.outcome.note, /carries no training cells/);
  const few = lab.slice(0, MIN_STAIN_CELLS - 1);
  assert.match(selfTrainLab(clf, few, classifyLab(clf, few, opts), opts).outcome.note, /too few to learn from/);
  // The training lab's own cells measure like the training cells: the plain forest reads them.
  const own = classifyLab(clf, train);
  assert.equal(own.stain.routing?.forest, 'plain');
  assert.match(selfTrainLab(clf, train, own).outcome.note, /nothing to adapt to/);
  const fixedMove = { offsets: new Map<number, number>(), note: 'reviewed' };
  assert.match(selfTrainLab(clf, lab, classifyLab(clf, lab, { fixedMove }), { fixedMove }).outcome.note, /reviewed cells/);
});

test('classifyCells self-trains when asked and says what it did; off by default', () => {
  const x = { data: Float64Array.from(lab.flat()), rows: lab.length, cols: 2 };
  const plain = classifyCells(clf, x);
  assert.equal(plain.selfTraining, null);
  const st = classifyCells(clf, x, { selfTraining: true });
  assert.ok(st.selfTraining, 'an outcome');
  // The shipped routing is on: this lab still measures unlike the training cells, so it is self-trained.
  assert.equal(st.selfTraining.applied, true, st.selfTraining.note);
  assert.equal(st.verdicts.length, lab.length);
  assert.deepEqual(st.selfCheck, plain.selfCheck);
  assert.notDeepEqual(Array.from(st.proba), Array.from(plain.proba));
});
