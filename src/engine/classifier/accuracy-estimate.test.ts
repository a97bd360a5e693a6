import { test } from 'node:test';
import assert from 'node:assert/strict';
import { calibrateConfidence, calibrationFromJson, confidenceScores, estimateAccuracy, thresholdForShare } from './accuracy-estimate.js';

/** Two-class probability rows with the given top probabilities (class 0 on top). */
const rowsOf = (tops: readonly number[]) => tops.flatMap((p) => [p, 1 - p]);

test('the ATC threshold leaves the asked share of scores above it', () => {
  const scores = [0.95, 0.9, 0.85, 0.8, 0.7, 0.65, 0.6, 0.55, 0.52, 0.51];
  const t = thresholdForShare(scores, 0.7);
  assert.equal(scores.filter((s) => s > t).length, 7);
  assert.ok(t > 0.55 && t < 0.6, String(t));
  assert.equal(scores.filter((s) => s > thresholdForShare(scores, 1)).length, 10);
  assert.equal(scores.filter((s) => s > thresholdForShare(scores, 0)).length, 0);
});

test('a calibration from labelled cells: accuracy, mean confidence and thresholds that reproduce the accuracy on the same cells', () => {
  // 10 cells, 8 right (truth 0): the two wrong ones are the least sure.
  const tops = [0.99, 0.97, 0.95, 0.93, 0.9, 0.85, 0.8, 0.75, 0.6, 0.55];
  const truth = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1];
  const cal = calibrateConfidence(rowsOf(tops), 2, truth, 'held-out');
  assert.equal(cal.accuracy, 0.8);
  assert.ok(Math.abs(cal.meanConfidence - tops.reduce((a, b) => a + b) / 10) < 1e-12);
  assert.equal(cal.cells, 10);
  assert.equal(cal.source, 'held-out');
  const self = estimateAccuracy(cal, rowsOf(tops), 2);
  assert.equal(self.atc_max, 0.8);
  assert.equal(self.atc_entropy, 0.8);
  assert.ok(Math.abs(self.doc - 0.8) < 1e-12);
});

test('a lab the forest is less sure of gets a lower estimate from every estimator; ATC counts cells, DoC moves the mean', () => {
  const cal = calibrateConfidence(rowsOf([0.99, 0.97, 0.95, 0.93, 0.9, 0.85, 0.8, 0.75, 0.6, 0.55]), 2, [0, 0, 0, 0, 0, 0, 0, 0, 1, 1], 'cross-fitted');
  // Half the cells as sure as the calibration's sure ones, half at a coin toss.
  const lab = rowsOf([0.99, 0.97, 0.95, 0.93, 0.9, 0.52, 0.51, 0.5, 0.53, 0.54]);
  const e = estimateAccuracy(cal, lab, 2);
  assert.equal(e.atc_max, 0.5);
  assert.equal(e.atc_entropy, 0.5);
  const meanLab = [0.99, 0.97, 0.95, 0.93, 0.9, 0.52, 0.51, 0.5, 0.53, 0.54].reduce((a, b) => a + b) / 10;
  assert.ok(Math.abs(e.doc - (meanLab + cal.accuracy - cal.meanConfidence)) < 1e-12);
  assert.ok(e.doc < 0.8 && e.doc > 0.5, String(e.doc));
  // Estimates stay in [0, 1].
  assert.equal(estimateAccuracy({ ...cal, accuracy: 1, meanConfidence: 0.2 }, rowsOf([1, 1]), 2).doc, 1);
});

test('negative entropy ranks a peaked distribution above a flat one with the same top probability', () => {
  const { max, entropy } = confidenceScores([0.6, 0.4, 0, 0.6, 0.2, 0.2], 3);
  assert.deepEqual(Array.from(max), [0.6, 0.6]);
  assert.ok(entropy[0]! > entropy[1]!);
  assert.ok(entropy[0]! <= 0);
});

test('a calibration read from a file: absent is none, malformed is refused', () => {
  assert.equal(calibrationFromJson(undefined), null);
  assert.equal(calibrationFromJson(null), null);
  const cal = { source: 'held-out', cells: 12, accuracy: 0.9, meanConfidence: 0.85, thresholdMax: 0.6, thresholdEntropy: -0.7 };
  assert.deepEqual(calibrationFromJson(cal), cal);
  assert.throws(() => calibrationFromJson({ ...cal, thresholdMax: 'x' }), /malformed confidence calibration/);
  assert.throws(() => calibrationFromJson({ ...cal, source: 'training' }), /malformed confidence calibration/);
});
