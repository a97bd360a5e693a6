import { test } from 'node:test';
import assert from 'node:assert/strict';
import { marginUncertainty, orderReviewQueue, type QueueCandidate } from './review-order.js';

const cand = (p: number[], embedding?: number[], flagged = false): QueueCandidate => ({ probabilities: p, embedding, flagged });

test('uncertainty is one minus the margin between the two likeliest classes', () => {
  assert.equal(marginUncertainty([1, 0, 0]), 0);
  assert.equal(marginUncertainty([0.5, 0.5, 0]), 1);
  assert.ok(Math.abs(marginUncertainty([0.6, 0.3, 0.1]) - 0.7) < 1e-12);
});

test('the most uncertain cell comes first, a sure one last', () => {
  const c = [cand([0.95, 0.05]), cand([0.5, 0.5]), cand([0.7, 0.3])];
  // One predicted class covers all three (argmax 0), so the score alone orders them.
  const q = orderReviewQueue(c, { first: 3 });
  assert.deepEqual(q.map((e) => e.index), [1, 2, 0]);
  assert.equal(q[0]!.uncertainty, 1);
});

test('a flagged cell is raised above an equally uncertain one', () => {
  const q = orderReviewQueue([cand([0.7, 0.3], [0]), cand([0.7, 0.3], [0], true)], { first: 1 });
  assert.equal(q[0]!.index, 1);
  assert.match(q[0]!.reason, /flagged/);
});

test('diversity: ten copies of one confusing cell do not fill the queue', () => {
  // Ten identical uncertain cells at one place, two slightly less uncertain ones far away.
  const c = [...Array.from({ length: 10 }, () => cand([0.5, 0.5], [0, 0])), cand([0.55, 0.45], [10, 10]), cand([0.55, 0.45], [-10, 10])];
  const q = orderReviewQueue(c, { first: 3 }).map((e) => e.index);
  assert.equal(q.filter((i) => i < 10).length, 1, `one of the copies, then the far cells: ${q}`);
  assert.ok(q.includes(10) && q.includes(11));
});

test('every predicted class gets a cell before the score decides alone', () => {
  const c = [cand([0.5, 0.45, 0.05]), cand([0.52, 0.46, 0.02]), cand([0.05, 0.05, 0.9])];
  const q = orderReviewQueue(c, { first: 2 }).map((e) => e.index);
  assert.ok(q.includes(2), `the only cell predicted as class 2 is among the first two: ${q}`);
});

test('cells already reviewed push the queue away from them', () => {
  const c = [cand([0.5, 0.5], [0, 0]), cand([0.5, 0.5], [5, 5])];
  assert.equal(orderReviewQueue(c, { first: 1, reviewed: [[0, 0]] })[0]!.index, 1);
  assert.equal(orderReviewQueue(c, { first: 1, reviewed: [[5, 5]] })[0]!.index, 0);
});

test('deterministic, bounded by the candidates, empty for none', () => {
  const c = Array.from({ length: 30 }, (_, i) => cand([0.5 + (i % 7) / 20, 0.5 - (i % 7) / 20], [i % 5, i % 3]));
  assert.deepEqual(orderReviewQueue(c, { first: 10 }), orderReviewQueue(c, { first: 10 }));
  assert.equal(orderReviewQueue(c, { first: 100 }).length, 30);
  assert.equal(new Set(orderReviewQueue(c, { first: 30 }).map((e) => e.index)).size, 30);
  assert.deepEqual(orderReviewQueue([], { first: 5 }), []);
  assert.throws(() => orderReviewQueue([cand([1, 0], [1]), cand([1, 0], [1, 2])], { first: 1 }), /different lengths/);
});
