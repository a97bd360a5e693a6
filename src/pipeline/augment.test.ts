import { test } from 'node:test';
import assert from 'node:assert/strict';
import { augmentCrop, drawAugmentation } from './augment.js';
import { applyLab } from './crop-transforms.js';
import { createRng } from '../engine/classifier/rng.js';
import { trainCellClassifier } from './classifier-training.js';
import { predict, predictProba } from '../engine/classifier/random-forest.js';
import { forestToJson } from '../engine/classifier/forest-json.js';
import { matrixFromRows } from '../engine/classifier/feature-matrix.js';

/** A 32 px crop: a dark disc on a light background. */
function discCrop(n = 32): Uint8Array {
  const c = new Uint8Array(n * n * 3);
  for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) {
    const inside = Math.hypot(x - n / 2, y - n / 2) < n / 4;
    c.set(inside ? [110, 60, 150] : [235, 228, 232], (y * n + x) * 3);
  }
  return c;
}

test('augmented copies are seeded per run and cell, keep the crop size and a box inside the crop', async () => {
  const c = { crop: discCrop(), size: 32, box: [0.2, 0.2, 0.8, 0.8] as const };
  const a = await augmentCrop(c, 3, 7, 11);
  const again = await augmentCrop(c, 3, 7, 11);
  assert.equal(a.length, 3);
  a.forEach((x, j) => assert.deepEqual(x.crop, again[j]!.crop));
  // The first copies do not depend on how many are asked for.
  assert.deepEqual((await augmentCrop(c, 1, 7, 11))[0]!.crop, a[0]!.crop);
  // Another cell (or another run) draws other labs.
  assert.notDeepEqual((await augmentCrop(c, 1, 7, 12))[0]!.crop, a[0]!.crop);
  for (const x of a) {
    assert.equal(x.crop.length, c.crop.length);
    assert.ok(x.box.every((v) => v >= 0 && v <= 1) && x.box[2] > x.box[0] && x.box[3] > x.box[1]);
    assert.notDeepEqual(x.crop, c.crop);
  }
});

test('every draw holds at least one transform; stain strength scales optical density', async () => {
  const rng = createRng(3);
  for (let i = 0; i < 200; i++) assert.ok(drawAugmentation(rng).length >= 1);
  const c = { crop: discCrop(), size: 32, box: [0.2, 0.2, 0.8, 0.8] as const };
  const darker = await applyLab(c, [{ kind: 'od_scale', factors: [1.5, 1.5, 1.5] }], 0);
  const centre = (16 * 32 + 16) * 3;
  for (let k = 0; k < 3; k++) assert.ok(darker.crop[centre + k]! < c.crop[centre + k]!, `channel ${k} darker`);
});

test("augmented copies of training cells join the forest's training rows; copies of held-out cells do not", () => {
  // Two classes told apart by column 0 (0 vs 1); a "lab" adds 10 to it. Copies carry the lab's shift.
  const rng = createRng(5);
  const rows: Float64Array[] = [];
  const labels: string[] = [];
  for (let i = 0; i < 80; i++) {
    const k = i % 2;
    rows.push(Float64Array.from([k + 0.2 * (rng.next() - 0.5), rng.next()]));
    labels.push(k ? 'b' : 'a');
  }
  const shifted = rows.map((r) => Float64Array.from([r[0]! + 10, r[1]!]));
  const of = rows.map((_, i) => i);
  const base = { labels, classNames: ['a', 'b'], features: 'latent' as const, classMap: 'test', trees: 15, maxDepth: 6, seed: 1 };
  const lab = matrixFromRows([Float64Array.from([10, 0.5]), Float64Array.from([11, 0.5])]);
  const plain = trainCellClassifier({ ...base, rows, testFraction: 0 });
  const augmented = trainCellClassifier({ ...base, rows, testFraction: 0, augmented: { rows: shifted, of } });
  // Unaugmented, both shifted cells read as the class with the larger column 0; augmented, each is its own.
  assert.deepEqual(Array.from(predict(plain.classifier.forest, lab)), [1, 1]);
  assert.deepEqual(Array.from(predict(augmented.classifier.forest, lab)), [0, 1]);
  // Copies made only of held-out cells change nothing: the forest is the one fitted without them.
  const split = trainCellClassifier({ ...base, rows, testFraction: 0.5 });
  const test = split.split.test;
  const heldOutOnly = trainCellClassifier({ ...base, rows, testFraction: 0.5, augmented: { rows: test.map((i) => shifted[i]!), of: test } });
  assert.deepEqual(Array.from(predict(heldOutOnly.classifier.forest, lab)), Array.from(predict(split.classifier.forest, lab)));
  assert.deepEqual(heldOutOnly.heldOut, split.heldOut);
});

test('the morphology stage measures augmented copies of each readable cell, naming the row each came from', async () => {
  const { morphologyOfCells } = await import('./morphology.js');
  const { MORPHOLOGY_LENGTH, MORPHOLOGY_SIZE } = await import('../imaging/cell-morphology.js');
  const crop = discCrop(MORPHOLOGY_SIZE);
  const source = { crop: async (c: { id: string }) => { if (c.id === 'bad') throw new Error('unreadable'); return crop; } };
  const cell = (id: string) => ({ id, box: [10, 10, 90, 90] as [number, number, number, number], storagePath: id, width: 100, height: 100 });
  const m = await morphologyOfCells(source, [cell('a'), cell('bad'), cell('c')], { augment: { copies: 2, seed: 0 } });
  assert.deepEqual(m.rows, [0, 2]);
  assert.deepEqual(m.augmented!.of, [0, 0, 1, 1]);
  assert.equal(m.augmented!.x.data.length, 4 * MORPHOLOGY_LENGTH);
  assert.ok(m.augmented!.x.data.every(Number.isFinite));
  assert.equal((await morphologyOfCells(source, [cell('a')])).augmented, undefined);
});

test('augmentWeight: each copy weighs as told against its cell (1: as a cell; the default)', () => {
  // Every row alike, so each tree is one leaf whose class mix is the weight per class: 20 cells of each class,
  // two copies of each 'a' cell. P(a) = (20 + 40w) / (40 + 40w): 0.75 at w = 1, 0.6 at w = 0.25 (up to bootstrap noise).
  const rows = Array.from({ length: 40 }, () => Float64Array.from([1, 2]));
  const labels = rows.map((_, i) => (i < 20 ? 'a' : 'b'));
  const of = Array.from({ length: 40 }, (_, j) => j >> 1);
  const base = { rows, labels, classNames: ['a', 'b'], features: 'latent' as const, classMap: 'test', trees: 60, seed: 3, testFraction: 0, augmented: { rows: of.map((i) => rows[i]!), of } };
  const pA = (w?: number) => predictProba(trainCellClassifier({ ...base, augmentWeight: w }).classifier.forest, matrixFromRows([rows[0]!]))[0]!;
  assert.equal(pA(1), pA());
  assert.equal(forestToJson(trainCellClassifier({ ...base, augmentWeight: 1 }).classifier.forest), forestToJson(trainCellClassifier(base).classifier.forest));
  assert.ok(Math.abs(pA(1) - 0.75) < 0.04, `w = 1: P(a) ${pA(1)}`);
  assert.ok(Math.abs(pA(0.25) - 0.6) < 0.04, `w = 0.25: P(a) ${pA(0.25)}`);
  // Reviewed cells carry their share of the weighted total (40 cells + 40 copies at w): at share 0.2 one reviewed
  // row is repeated 0.25 x 50 = 12.5 -> 13 times at w = 0.25, 0.25 x 80 = 20 times at w = 1.
  const reviewed = { rows: [Float64Array.from([1, 2])], labels: ['b'], share: 0.2 };
  assert.equal(trainCellClassifier({ ...base, augmentWeight: 0.25, reviewed }).reviewCopies, 13);
  assert.equal(trainCellClassifier({ ...base, reviewed }).reviewCopies, 20);
  assert.throws(() => trainCellClassifier({ ...base, augmentWeight: 0 }), /augmentWeight must be finite and > 0/);
});

test('plainTreeShare: that share of the trees is fitted on the cells without their copies', () => {
  // Column 0 alone tells the classes apart on the cells (0 vs 1; column 1 is constant); the copies carry a lab shift
  // of +10, so only trees that saw copies know where a shifted cell belongs. A shifted 'a' (10): every augmented tree
  // says 'a', every plain tree 'b' (the larger column 0), so P(a) is the share of trees that saw the copies.
  const rng = createRng(6);
  const rows = Array.from({ length: 60 }, (_, i) => Float64Array.from([(i % 2) + 0.2 * (rng.next() - 0.5), 0.5]));
  const labels = rows.map((_, i) => (i % 2 ? 'b' : 'a'));
  const shifted = rows.map((r) => Float64Array.from([r[0]! + 10, r[1]!]));
  const base = { rows, labels, classNames: ['a', 'b'], features: 'latent' as const, classMap: 'test', trees: 40, maxDepth: 6, seed: 2, testFraction: 0 };
  const withCopies = { ...base, augmented: { rows: shifted, of: rows.map((_, i) => i) } };
  const probe = matrixFromRows([Float64Array.from([10, 0.5]), Float64Array.from([0, 0.5])]);
  const proba = (share?: number) => Array.from(predictProba(trainCellClassifier({ ...withCopies, plainTreeShare: share }).classifier.forest, probe));
  assert.deepEqual(proba(), [1, 0, 1, 0]);
  assert.deepEqual(proba(0.5), [0.5, 0.5, 1, 0]);
  assert.deepEqual(proba(0.25), [0.75, 0.25, 1, 0]);
  assert.deepEqual(proba(1), [0, 1, 1, 0]);
  assert.deepEqual(proba(1), Array.from(predictProba(trainCellClassifier(base).classifier.forest, probe)));
  assert.throws(() => trainCellClassifier({ ...withCopies, plainTreeShare: 1.5 }), /plainTreeShare must be in \[0, 1\]/);
});
