import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyLab, MIN_STAIN_CELLS } from './lab-classification.js';
import { stainStepOf, DEFAULT_STAIN_STEP } from '../engine/classifier/stain-steps.js';
import type { CellClassifier } from '../engine/classifier/classifier-artifact.js';
import { fitRandomForest } from '../engine/classifier/random-forest.js';
import { fitNovelty } from '../engine/classifier/novelty.js';
import { fitShapeForest } from '../engine/classifier/stain-mix-forest.js';
import { stainReference } from '../engine/classifier/stain-shift.js';
import { twoColumnLabs } from './two-column-lab.fixture.js';

const { make, src, y, stain, opts, x } = twoColumnLabs();
const clf: CellClassifier = {
  forest: fitRandomForest(x, y, opts), novelty: fitNovelty(x, y, { numClasses: 2 }), classNames: ['a', 'b'], classMap: 'test', features: 'morphology',
  encoderId: null, minConfidence: 0, stain, shapeForest: fitShapeForest(src, y, stain, 2, opts),
};

test('stainAdaptation names a step: auto is the default step, off none, always adaptive at any shift', () => {
  assert.deepEqual(stainStepOf(undefined), { step: DEFAULT_STAIN_STEP, limit: 1 });
  assert.deepEqual(stainStepOf('off'), { step: 'none', limit: 1 });
  assert.deepEqual(stainStepOf('always'), { step: 'adaptive', limit: -1 });
  assert.deepEqual(stainStepOf('centred'), { step: 'centred', limit: 1 });
});

test('adaptive moves a lab shifted past the limit onto medians under its estimated class mix; a lab within it stays', () => {
  const lab = make(200, 0.1, 5);
  const r = classifyLab(clf, lab, { step: 'adaptive' });
  assert.equal(r.stain.centred, true);
  assert.ok(Math.abs(r.stain.classMix!.b! - 0.1) < 0.05, JSON.stringify(r.stain.classMix));
  assert.match(r.stain.note, /adaptive: moved onto the training medians under their estimated class mix \(a 9\d %, b \d+ %\)/);
  // The lab's class-a cells land where the training class a lies (0..2), not half-way towards b.
  const off = new Map(r.stain.offsets);
  const moved = lab.filter((row) => row[0]! < 2).map((row) => row[1]! + off.get(1)!);
  assert.ok(Math.abs(moved.reduce((s, v) => s + v, 0) / moved.length - 1) < 0.25);
  const near = classifyLab(clf, make(200, 0.5, 0.3), { step: 'adaptive' });
  assert.equal(near.stain.centred, false);
  assert.match(near.stain.note, /left as it is \(shift <= 1 within-class SDs\)/);
});

test('centred takes the lab median out whatever its mix; prior_mix keeps the estimate near a blood count', () => {
  const lab = make(200, 0.1, 5);
  const c = classifyLab(clf, lab, { step: 'centred' });
  assert.equal(c.stain.centred, true);
  assert.equal(c.stain.classMix, null);
  const p = classifyLab(clf, lab, { step: 'prior_mix' });
  assert.equal(p.stain.centred, true);
  assert.ok(p.stain.estimatedMix && p.stain.classMix, JSON.stringify(p.stain));
});

test('the ensemble averages its members; too few cells, no reference and no cells are said so', () => {
  const lab = make(200, 0.1, 5);
  const e = classifyLab(clf, lab, { step: 'ensemble' });
  assert.deepEqual(e.stain.members, ['prior_mix', 'centred']);
  for (let i = 0; i < lab.length; i++) assert.ok(Math.abs(e.proba[2 * i]! + e.proba[2 * i + 1]! - 1) < 1e-9);
  const few = classifyLab(clf, make(MIN_STAIN_CELLS - 1, 0.5, 5), { step: 'ensemble' });
  assert.equal(few.stain.centred, false);
  assert.match(few.stain.note, /too few/);
  // ALWAYS (a limit below zero) is the user's explicit choice: it applies even to a few cells.
  assert.equal(classifyLab(clf, make(5, 0.5, 2), { step: 'adaptive', limit: -1 }).stain.centred, true);
  assert.match(classifyLab({ ...clf, stain: null }, lab).stain.note, /no stain reference/);
  assert.match(classifyLab(clf, [], { step: 'adaptive', limit: -1 }).stain.note, /no cell could be measured/);
});

// Routing: a plain forest that calls every cell the opposite class, so that the reported view shows which forest ran,
// and calibrations that differ, so that the accuracy estimate shows which calibration was held.
const flipped = fitRandomForest(x, y.map((k) => 1 - k), opts);
const cal = (accuracy: number) => ({ source: 'cross-fitted' as const, cells: 400, accuracy, meanConfidence: 0.9, thresholdMax: 0.5, thresholdEntropy: -0.5 });
const routed: CellClassifier = {
  ...clf, calibration: cal(0.9), plainForest: flipped, plainCalibration: cal(0.5),
  profile: stainReference(src, src, y.map((k) => 'ab'[k]!), [0, 1]),
};
const share = (a: Int32Array, b: Int32Array) => a.reduce((n, v, i) => n + (v === b[i] ? 1 : 0), 0) / a.length;

test('routing: a lab like the training cells gets the plain forest and its calibration', () => {
  const lab = make(200, 0.5, 0);
  const r = classifyLab(routed, lab, { routeLimit: 0.27 });
  assert.equal(r.stain.routing?.forest, 'plain');
  assert.ok(r.stain.routing!.statistic! <= 0.27, String(r.stain.routing!.statistic));
  assert.match(r.stain.note, /plain forest: the lab measures like the training cells \(morphology shift 0\.\d\d <= 0\.27\)/);
  // Every view ran through the plain forest: the reported classes are the flipped ones.
  const plain = classifyLab({ ...clf, forest: flipped }, lab, {});
  assert.equal(share(r.views.reported!, plain.views.reported!), 1);
  assert.equal(share(r.views.none!, plain.views.none!), 1);
  // DoC: mean confidence + calibration accuracy - calibration confidence; the plain calibration's accuracy is 0.4 lower.
  const aug = classifyLab(routed, lab, { routeLimit: null });
  assert.equal(aug.stain.routing?.forest, 'augmented');
  assert.match(aug.stain.routing!.note, /routing off/);
  const conf = (p: Float64Array) => { let s = 0; for (let i = 0; i < p.length; i += 2) s += Math.max(p[i]!, p[i + 1]!); return s / (p.length / 2); };
  assert.ok(Math.abs(r.accuracyEstimates!.doc - Math.min(1, Math.max(0, conf(r.proba) + 0.5 - 0.9))) < 1e-9);
  assert.ok(Math.abs(aug.accuracyEstimates!.doc - Math.min(1, Math.max(0, conf(aug.proba) + 0.9 - 0.9))) < 1e-9);
});

test('routing: a shifted lab, a lab of other shapes and a lab of too few cells get the augmented forest', () => {
  const stained = classifyLab(routed, make(200, 0.5, 5), { routeLimit: 0.27 });
  assert.equal(stained.stain.routing?.forest, 'augmented');
  assert.match(stained.stain.routing!.note, /morphology shift \d+\.\d\d > 0\.27/);
  // The training stain, other optics: the shape column moves (both columns are profiled, not only the stain's).
  const tight = classifyLab(routed, make(200, 0.5, 0).map(([a, b]) => [a! * 1.6 + 1, b!]), { routeLimit: 0.27 });
  assert.equal(tight.stain.routing?.forest, 'augmented');
  // The augmented forest reported (the plain one would flip the classes).
  assert.equal(share(stained.views.reported!, classifyLab(clf, make(200, 0.5, 5), {}).views.reported!) > 0.5, true);
  const few = classifyLab(routed, make(MIN_STAIN_CELLS - 1, 0.5, 0), { routeLimit: 0.27 });
  assert.equal(few.stain.routing?.forest, 'augmented');
  assert.equal(few.stain.routing?.statistic, null);
  assert.match(few.stain.note, /too few to measure the lab/);
  // A classifier without a plain forest (older files) never routes and says nothing of it.
  assert.equal(classifyLab(clf, make(200, 0.5, 0), { routeLimit: 0.27 }).stain.routing, undefined);
});
