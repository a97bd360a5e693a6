import test from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../engine/classifier/rng.js';
import { classMixShifts, columnMedians, stainReference, stainShift, withinClassSd, STAIN_SHIFT_LIMIT } from './stain-shift.js';

test('columnMedians: odd and even counts, only the columns asked for', () => {
  const m = columnMedians([[1, 10, 7], [3, 30, 7], [2, 20, 7], [4, 0, 7]], [0, 1]);
  assert.deepEqual([...m], [[0, 2.5], [1, 15]]);
  assert.deepEqual([...columnMedians([[5], [1], [3]], [0])], [[0, 3]]);
});

test('stainReference: medians over all rows, spread over the labelled training rows, in column order', () => {
  const all = [[0, 1, 9], [0, 3, 9], [0, 5, 9], [0, 100, 9]];
  const ref = stainReference(all, [[0, 1, 0], [0, 3, 0], [0, 10, 0], [0, 14, 0]], ['a', 'a', 'b', 'b'], [2, 1]);
  assert.deepEqual(ref.columns, [2, 1]);
  assert.deepEqual(ref.medians, [9, 4]);
  // column 2: no spread in either class; column 1: variances 2 and 8 -> sqrt(5)
  assert.equal(ref.spread[0], 0);
  assert.ok(Math.abs(ref.spread[1]! - Math.sqrt(5)) < 1e-12);
});

test('withinClassSd: the root of the mean of the classes\' sample variances, classes weighted alike', () => {
  // class a: 1, 3 (variance 2); class b: 10, 10, 10, 14 (variance 4) -> sqrt(3)
  const rows = [[1], [3], [10], [10], [10], [14]];
  const sd = withinClassSd(rows, ['a', 'a', 'b', 'b', 'b', 'b'], [0]);
  assert.ok(Math.abs(sd.get(0)! - Math.sqrt(3)) < 1e-12);
  // A class of one cell has no variance and is left out.
  assert.ok(Math.abs(withinClassSd([[1], [3], [99]], ['a', 'a', 'c'], [0]).get(0)! - Math.sqrt(2)) < 1e-12);
  assert.throws(() => withinClassSd([[1]], [], [0]), /1 rows, 0 labels/);
});

// A source of two classes whose values lie 1.5 within-class SDs apart (class SD 1), as most morphology
// columns' classes do (a class mix can move a median further when the classes lie far apart: hence the median
// over many columns, and the limit, are heuristics).
function source(n: number, seed = 1): { rows: number[][]; labels: string[] } {
  let s = seed;
  const rand = () => ((s = (s * 16807) % 2147483647) / 2147483647);
  const gauss = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
  const rows: number[][] = [];
  const labels: string[] = [];
  for (let i = 0; i < n; i++) {
    const k = i % 2;
    rows.push([k * 1.5 + gauss(), k * 1.5 + gauss(), 5]);
    labels.push(k ? 'b' : 'a');
  }
  return { rows, labels };
}

test('stainShift: a lab whose medians move only by its class mix is left as it is', () => {
  const src = source(400);
  const cols = [0, 1, 2];
  const ref = stainReference(src.rows, src.rows, src.labels, cols);
  // The same lab with 80 % of class a: the medians move towards a, by less than one class SD.
  const skewed = source(1000, 7).rows.filter((_, i) => i % 2 === 0 || i % 10 === 1);
  const sh = stainShift(skewed, ref);
  assert.ok(sh.statistic < STAIN_SHIFT_LIMIT, `statistic ${sh.statistic}`);
  assert.equal(sh.centre, false);
  assert.equal(sh.offsets.size, 0);
});

test('stainShift: a lab whose stain moved every value by 3 SDs is moved back onto the source medians', () => {
  const src = source(400);
  const cols = [0, 1, 2];
  const ref = stainReference(src.rows, src.rows, src.labels, cols);
  const lab = source(400, 3).rows.map((r) => [r[0]! + 3, r[1]! - 3, r[2]!]);
  const sh = stainShift(lab, ref);
  // Column 2 is constant in the source (no spread): it cannot be measured and is left out of the statistic.
  assert.ok(sh.statistic > 2.5 && sh.statistic < 3.5, `statistic ${sh.statistic}`);
  assert.equal(sh.centre, true);
  const labMed = columnMedians(lab, cols);
  for (const c of cols) assert.ok(Math.abs(labMed.get(c)! + sh.offsets.get(c)! - ref.medians[c]!) < 1e-12);
  // A stricter limit leaves it alone; an empty lab is never moved.
  assert.equal(stainShift(lab, ref, 5).centre, false);
  assert.deepEqual(stainShift([], ref), { statistic: 0, centre: false, offsets: new Map() });
});

test('classMixShifts: what random class mixes of the source do to the statistic, seeded', () => {
  const src = source(600);
  const cols = [0, 1, 2];
  const ref = stainReference(src.rows, src.rows, src.labels, cols);
  const a = classMixShifts(src.rows, src.labels, ref, { draws: 12, size: 200, rng: createRng(5) });
  const b = classMixShifts(src.rows, src.labels, ref, { draws: 12, size: 200, rng: createRng(5) });
  assert.deepEqual(a, b);
  assert.equal(a.length, 12);
  // Classes 1.5 SDs apart: a mix moves the medians by at most ~0.75 SD, never by the 3 SDs of a stain change.
  assert.ok(a.every((v) => v >= 0 && v < 1), a.join(', '));
  assert.ok(Math.max(...a) > 0.1, 'some mixes move the medians');
  assert.deepEqual(classMixShifts([], [], ref, { rng: createRng(1) }), []);
});
