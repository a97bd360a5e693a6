import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideStain, MIN_STAIN_CELLS } from './stain-step.js';
import type { CellClassifier } from '../engine/classifier/classifier-artifact.js';
import { fitRandomForest } from '../engine/classifier/random-forest.js';
import { fitShapeForest } from '../engine/classifier/stain-mix-forest.js';
import { twoColumnLabs } from './two-column-lab.fixture.js';

// Only the stain reference matters to decideStain: two stain columns (1 and 3), median 0, within-class SD 1.
const clf = { stain: { columns: [1, 3], medians: [0, 0], spread: [1, 1] } } as unknown as CellClassifier;
const cells = (n: number, shift: number) => Array.from({ length: n }, (_, i) => [i, shift + (i % 5) * 0.1 - 0.2, 7, shift - 0.1 + (i % 3) * 0.1]);

test('AUTO moves a lab shifted by 2 SDs onto the training medians, and only the stain columns', () => {
  const { stain, offsets } = decideStain(clf, cells(40, 2), 'auto');
  assert.equal(stain.centred, true);
  assert.ok(Math.abs(stain.statistic! - 2) < 1e-9, String(stain.statistic));
  assert.equal(stain.cells, 40);
  assert.deepEqual([...offsets.keys()], [1, 3]);
  assert.ok(Math.abs(offsets.get(1)! + 2) < 1e-9 && Math.abs(offsets.get(3)! + 2) < 1e-9);
  assert.match(stain.note, /stain moved onto the training cells' \(shift 2\.00 within-class SDs > 1\)/);
});

test('AUTO leaves a lab within the limit as it is; ALWAYS moves it anyway; OFF never measures', () => {
  const near = decideStain(clf, cells(40, 0.5), 'auto');
  assert.equal(near.stain.centred, false);
  assert.equal(near.offsets.size, 0);
  assert.match(near.stain.note, /left as it is \(shift 0\.50/);
  const always = decideStain(clf, cells(40, 0.5), 'always');
  assert.equal(always.stain.centred, true);
  assert.ok(Math.abs(always.offsets.get(1)! + 0.5) < 1e-9);
  const off = decideStain(clf, cells(40, 2), 'off');
  assert.deepEqual([off.stain.centred, off.stain.statistic, off.offsets.size], [false, null, 0]);
});

test('AUTO needs enough cells; a classifier without a reference adapts nothing', () => {
  const few = decideStain(clf, cells(MIN_STAIN_CELLS - 1, 2), 'auto');
  assert.equal(few.stain.centred, false);
  assert.match(few.stain.note, /too few/);
  // ALWAYS is the user's explicit choice: it applies even to a few cells.
  assert.equal(decideStain(clf, cells(5, 2), 'always').stain.centred, true);
  const old = decideStain({ stain: null } as unknown as CellClassifier, cells(40, 2), 'auto');
  assert.equal(old.stain.centred, false);
  assert.match(old.stain.note, /no stain reference/);
  assert.match(decideStain(clf, [], 'always').stain.note, /no cell could be measured/);
});

test('a classifier with class distributions and a shape forest moves a lab onto medians under its estimated class mix', () => {
  const { make, src, y, stain, opts, x } = twoColumnLabs();
  const forest = fitRandomForest(x, y, opts);
  const withMix = { forest, stain, shapeForest: fitShapeForest(src, y, stain, 2, opts) } as unknown as CellClassifier;
  const lab = make(200, 0.1, 5);
  const { stain: outcome, offsets } = decideStain(withMix, lab, 'auto');
  assert.equal(outcome.centred, true);
  assert.ok(Math.abs(outcome.classMix!.b! - 0.1) < 0.05, JSON.stringify(outcome.classMix));
  assert.match(outcome.note, /under their estimated class mix \(a 9\d %, b \d+ %\)/);
  // The lab's class-a cells land where the training class a lies (0..2), not half-way towards b.
  const moved = lab.filter((r) => r[0]! < 2).map((r) => r[1]! + offsets.get(1)!);
  const mean = moved.reduce((s, v) => s + v, 0) / moved.length;
  assert.ok(Math.abs(mean - 1) < 0.25, `class a's stain after the move: ${mean}`);
  // The same classifier without its shape forest moves onto the plain medians, and says nothing of a mix.
  const plain = decideStain({ ...withMix, shapeForest: null } as CellClassifier, lab, 'auto');
  assert.equal(plain.stain.classMix, null);
  assert.ok(Math.abs(plain.offsets.get(1)! - offsets.get(1)!) > 0.5, `${plain.offsets.get(1)} vs ${offsets.get(1)}`);
});
