import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_REVIEW_COPIES, reviewCopies, withReviewedRows } from './reviewed-cells.js';

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
