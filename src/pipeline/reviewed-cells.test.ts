import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classMedians, MAX_REVIEW_COPIES, reviewCopies, reviewedStainOffsets, withReviewedRows } from './reviewed-cells.js';
import { createRng } from '../engine/classifier/rng.js';

test('reviewed cells together weigh the asked share of the training rows', () => {
  // 1000 source rows, 50 reviewed, half the weight: 20 copies each (1000 rows of reviews).
  assert.equal(reviewCopies(1000, 50, 0.5), 20);
  assert.equal(reviewCopies(1000, 100, 0.5), 10);
  assert.equal(reviewCopies(1000, 5, 0.5), MAX_REVIEW_COPIES, 'a handful of reviews is capped');
  assert.equal(reviewCopies(10, 50, 0.5), 1, 'at least once');
  assert.equal(reviewCopies(1000, 0), 0);
  assert.throws(() => reviewCopies(10, 1, 1), /share/);
});

test('rows are appended copies times, inputs untouched', () => {
  const x = [[1], [2]];
  const y = [0, 1];
  const r = withReviewedRows(x, y, [[9]], [1], 3);
  assert.deepEqual(r.x, [[1], [2], [9], [9], [9]]);
  assert.deepEqual(r.y, [0, 1, 1, 1, 1]);
  assert.equal(x.length, 2);
  assert.throws(() => withReviewedRows(x, y, [[9]], [], 1), /labels/);
});

test('reviewed cells of a shifted lab tell its stain move, class mix or not', () => {
  // Source: two classes, column 0 (a stain column) around 0 and 10, column 1 (not a stain column) anything.
  const rng = createRng(3);
  const noise = () => rng.next() - 0.5;
  const source = [...Array.from({ length: 50 }, () => [noise(), 5]), ...Array.from({ length: 50 }, () => [10 + noise(), 5])];
  const labels = [...Array(50).fill('a'), ...Array(50).fill('b')];
  const medians = classMedians(source, labels, [0]);
  assert.ok(Math.abs(medians.get('a')!.get(0)!) < 0.2 && Math.abs(medians.get('b')!.get(0)! - 10) < 0.2);
  // The lab: every value 3 higher, and nine cells of b to one of a. Its median over all cells moved onto the
  // source's (what an unlabelled estimate that misses the mix does) would move it by about -8.
  const lab = [...Array.from({ length: 2 }, () => [3 + noise(), 5]), ...Array.from({ length: 18 }, () => [13 + noise(), 5])];
  const labLabels = [...Array(2).fill('a'), ...Array(18).fill('b')];
  const unlabelled = new Map([[0, -8]]);
  const told = reviewedStainOffsets({ rows: lab, labels: labLabels }, medians, [0], unlabelled, 0);
  assert.equal(told.cells, 20);
  assert.equal(told.weight, 1);
  assert.ok(Math.abs(told.offsets.get(0)! + 3) < 0.5, `moved by ${told.offsets.get(0)}, not about -3`);
  assert.deepEqual([...told.offsets.keys()], [0], 'only the stain columns move');
  // Pooled with the unlabelled estimate: 20 reviews against 10 pseudo-reviews, two thirds of the way to -3.
  const pooled = reviewedStainOffsets({ rows: lab, labels: labLabels }, medians, [0], unlabelled, 10);
  assert.ok(Math.abs(pooled.weight - 2 / 3) < 1e-12);
  assert.ok(Math.abs(pooled.offsets.get(0)! - ((2 / 3) * told.offsets.get(0)! + (1 / 3) * -8)) < 1e-9);
  // More reviews move it further from the unlabelled estimate.
  const few = reviewedStainOffsets({ rows: lab.slice(0, 4), labels: labLabels.slice(0, 4) }, medians, [0], unlabelled, 10);
  assert.ok(few.offsets.get(0)! < pooled.offsets.get(0)!, 'fewer reviews, closer to the unlabelled move');
  // No reviews, or only classes the source lacks: the unlabelled estimate (a column it left alone: no move).
  assert.deepEqual(reviewedStainOffsets({ rows: [], labels: [] }, medians, [0], unlabelled).offsets, unlabelled);
  const unknown = reviewedStainOffsets({ rows: [[3, 5]], labels: ['c'] }, medians, [0], new Map());
  assert.equal(unknown.cells, 0);
  assert.equal(unknown.offsets.get(0), 0);
  assert.throws(() => reviewedStainOffsets({ rows: [[1, 1]], labels: [] }, medians, [0], unlabelled), /labels/);
});
