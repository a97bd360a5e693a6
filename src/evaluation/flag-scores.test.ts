import assert from 'node:assert/strict';
import test from 'node:test';
import { flagScores } from './flag-scores.js';
import { wilsonInterval } from '../pipeline/metrics.js';
import { classifyLatents, type CellClassifier } from '../engine/classifier/classifier-artifact.js';
import type { NoveltyScores } from '../engine/classifier/novelty.js';
import { selfCheckReason } from '../engine/classifier/self-check.js';

// Verdicts as the classify stage writes them (classifyLatents; classify.ts for a failed self-check).
const kept = { flagged: false, reason: null };
const novel = { flagged: true, reason: 'unlike the training cells (novelty score 1.42 > 1)' };
const low = { flagged: true, reason: 'low confidence (0.30 < 0.4)' };
const check = { status: 'failed' as const, verdicts: [{ check: 'class_mix' as const, status: 'failed' as const, value: 1.2, warnAt: 0.5, failAt: 1, message: 'far from any blood count' }] };
const withheld = { flagged: true, reason: selfCheckReason(check as unknown as Parameters<typeof selfCheckReason>[0]) };

test('flag scores: counts by the reason each verdict gives, accuracy on the cells left and on the flagged, by hand', () => {
  const truth = ['a', 'a', 'b', 'b', 'a', 'b', 'a'];
  const pred = ['a', 'b', 'b', 'a', 'a', 'b', 'a'];
  const f = flagScores(truth, pred, [kept, low, kept, novel, low, kept, novel], 0.4);
  assert.equal(f.n, 7);
  assert.equal(f.novel, 2);
  assert.equal(f.low_confidence, 2);
  assert.equal(f.self_check, 0);
  assert.equal(f.flagged, 4);
  // Left: rows 0, 2, 5, all right. Flagged: rows 1 (wrong), 3 (wrong), 4 (right), 6 (right).
  assert.equal(f.unflagged.n, 3);
  assert.equal(f.unflagged.accuracy, 1);
  assert.deepEqual(f.unflagged.accuracy_ci95, wilsonInterval(3, 3));
  assert.equal(f.flagged_accuracy, 0.5);
  assert.equal(f.min_confidence, 0.4);
});

test("flag scores: the classify stage's own verdicts, novelty before confidence", () => {
  // Two classes; the novelty model calls the second cell unlike the training cells, the third is unsure, both ways.
  const clf = { classNames: ['a', 'b'], minConfidence: 0.6 } as unknown as CellClassifier;
  const x = { data: new Float64Array(3), rows: 3, cols: 1 };
  const proba = [0.9, 0.1, 0.2, 0.8, 0.55, 0.45];
  const nov = (score: number[]): NoveltyScores => ({ score: Float64Array.from(score), distance: Float64Array.from(score), nearestClass: new Int32Array(3), novel: Uint8Array.from(score, (s) => (s > 1 ? 1 : 0)) });
  const f = flagScores(['a', 'a', 'a'], ['a', 'b', 'a'], classifyLatents(clf, x, proba, nov([0.2, 1.5, 1.3])), 0.6);
  assert.deepEqual([f.flagged, f.novel, f.low_confidence, f.unflagged.n], [2, 2, 0, 1]);
  const g = flagScores(['a', 'a', 'a'], ['a', 'b', 'a'], classifyLatents(clf, x, proba, nov([0.2, 0.5, 0.3])), 0.6);
  assert.deepEqual([g.flagged, g.novel, g.low_confidence, g.unflagged.n], [1, 0, 1, 2]);
});

test('flag scores: nothing flagged, everything flagged, and bad input', () => {
  const none = flagScores(['a', 'b'], ['a', 'a'], [kept, kept], 0.4);
  assert.equal(none.flagged, 0);
  assert.equal(none.flagged_accuracy, null);
  assert.equal(none.unflagged.accuracy, 0.5);
  const all = flagScores(['a', 'b'], ['a', 'a'], [low, novel], 0.4);
  assert.equal(all.unflagged.n, 0);
  assert.equal(all.unflagged.accuracy, null);
  assert.equal(all.unflagged.accuracy_ci95, null);
  assert.throws(() => flagScores(['a'], ['a', 'b'], [kept], 0.4), /1 labels, 2 predictions, 1 verdicts/);
  assert.throws(() => flagScores(['a'], ['a'], [kept, kept], 0.4), /1 labels, 1 predictions, 2 verdicts/);
  assert.throws(() => flagScores(['a'], ['a'], [kept], 1.5), /minConfidence must be in \[0, 1\]/);
  // A reason the report has no count for is an error, not a silent "not flagged".
  assert.throws(() => flagScores(['a'], ['a'], [{ flagged: true, reason: 'something else' }], 0.4), /cell 0 is flagged for a reason the report has no count for: "something else"/);
});

test('flag scores: a batch whose self-check failed has every cell flagged, the per-cell reasons kept apart', () => {
  const truth = ['a', 'a', 'b', 'b'];
  const pred = ['a', 'b', 'b', 'a'];
  const f = flagScores(truth, pred, [withheld, low, withheld, novel], 0.4);
  assert.equal(f.flagged, 4);
  assert.deepEqual([f.novel, f.low_confidence, f.self_check], [1, 1, 2]);
  assert.equal(f.unflagged.n, 0);
  assert.equal(f.unflagged.accuracy, null);
  assert.equal(f.flagged_accuracy, 0.5);
});
