import assert from 'node:assert/strict';
import test from 'node:test';
import { flagScores } from './flag-scores.js';
import { wilsonInterval } from '../pipeline/metrics.js';

test('flag scores: counts by reason (novelty first), accuracy on the cells left and on the flagged, by hand', () => {
  const truth = ['a', 'a', 'b', 'b', 'a', 'b', 'a'];
  const pred = ['a', 'b', 'b', 'a', 'a', 'b', 'a'];
  const top = [0.9, 0.3, 0.8, 0.5, 0.35, 0.95, 0.1];
  const novel = [0, 0, 0, 1, 0, 0, 1]; // the last is novel and low: counted as novel
  const f = flagScores(truth, pred, top, novel, 0.4);
  assert.equal(f.n, 7);
  assert.equal(f.novel, 2);
  assert.equal(f.low_confidence, 2);
  assert.equal(f.flagged, 4);
  // Left: rows 0, 2, 5, all right. Flagged: rows 1 (wrong), 3 (wrong), 4 (right), 6 (right).
  assert.equal(f.unflagged.n, 3);
  assert.equal(f.unflagged.accuracy, 1);
  assert.deepEqual(f.unflagged.accuracy_ci95, wilsonInterval(3, 3));
  assert.equal(f.flagged_accuracy, 0.5);
  assert.equal(f.min_confidence, 0.4);
});

test('flag scores: nothing flagged, everything flagged, and bad input', () => {
  const none = flagScores(['a', 'b'], ['a', 'a'], [0.9, 0.9], [0, 0], 0.4);
  assert.equal(none.flagged, 0);
  assert.equal(none.flagged_accuracy, null);
  assert.equal(none.unflagged.accuracy, 0.5);
  const all = flagScores(['a', 'b'], ['a', 'a'], [0.2, 0.9], [0, 1], 0.4);
  assert.equal(all.unflagged.n, 0);
  assert.equal(all.unflagged.accuracy, null);
  assert.equal(all.unflagged.accuracy_ci95, null);
  assert.throws(() => flagScores(['a'], ['a', 'b'], [1], [0], 0.4), /1 labels, 2 predictions/);
  assert.throws(() => flagScores(['a'], ['a'], [1], [0], 1.5), /minConfidence must be in \[0, 1\]/);
});

test('flag scores: a batch whose self-check failed has every cell flagged, the per-cell reasons kept apart', () => {
  const truth = ['a', 'a', 'b', 'b'];
  const pred = ['a', 'b', 'b', 'a'];
  const f = flagScores(truth, pred, [0.9, 0.3, 0.8, 0.9], [0, 0, 0, 1], 0.4, true);
  assert.equal(f.flagged, 4);
  assert.deepEqual([f.novel, f.low_confidence, f.self_check], [1, 1, 2]);
  assert.equal(f.unflagged.n, 0);
  assert.equal(f.unflagged.accuracy, null);
  assert.equal(f.flagged_accuracy, 0.5);
  // Without the failed check only the per-cell flags count.
  assert.equal(flagScores(truth, pred, [0.9, 0.3, 0.8, 0.9], [0, 0, 0, 1], 0.4).self_check, 0);
});
