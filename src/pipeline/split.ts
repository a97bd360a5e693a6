// Stratified, seeded train/test split (80/20 by default, docs/aecfe-method.md §6): each
// class is split in the same proportion so rare classes appear on both sides when they can.

import { createRng, shuffleInPlace } from '../engine/classifier/rng.js';
import type { Label } from './metrics.js';

export interface SplitOptions {
  /** Fraction of each class sent to the test side. Default 0.2. */
  readonly testFraction?: number;
  readonly seed?: number;
}

export interface TrainTestSplit {
  /** Row indices, ascending. */
  readonly train: number[];
  readonly test: number[];
}

/**
 * Splits row indices by label: class c with n_c rows sends round(n_c * testFraction) of them to test,
 * but always keeps at least one in train so the classifier has seen every class. Same labels and
 * seed give the same split, whatever order the classes first appear in.
 */
export function stratifiedSplit(labels: readonly Label[], options: SplitOptions = {}): TrainTestSplit {
  const testFraction = options.testFraction ?? 0.2;
  if (!(testFraction >= 0 && testFraction < 1)) throw new Error(`stratified split: testFraction must be in [0, 1), got ${testFraction}`);
  if (labels.length === 0) throw new Error('stratified split: no rows');
  const byClass = new Map<string, number[]>();
  labels.forEach((label, i) => {
    const key = `${typeof label}:${String(label)}`;
    let rows = byClass.get(key);
    if (!rows) byClass.set(key, (rows = []));
    rows.push(i);
  });
  const rng = createRng(options.seed ?? 0);
  const train: number[] = [];
  const test: number[] = [];
  for (const key of [...byClass.keys()].sort()) {
    const rows = shuffleInPlace(byClass.get(key)!, rng);
    const nTest = Math.min(rows.length - 1, Math.round(rows.length * testFraction));
    for (let i = 0; i < rows.length; i++) (i < nTest ? test : train).push(rows[i]);
  }
  train.sort((a, b) => a - b);
  test.sort((a, b) => a - b);
  return { train, test };
}
