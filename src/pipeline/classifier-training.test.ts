import { test } from 'node:test';
import assert from 'node:assert/strict';
import { trainCellClassifier } from './classifier-training.js';
import { createRng } from '../engine/classifier/rng.js';
import { MORPHOLOGY_COLOUR_COLUMNS, MORPHOLOGY_LENGTH } from '../imaging/cell-morphology.js';

test('the stain step moves the colour columns unless stainColumns says which; the shape forest reads the others', () => {
  // Rows of the morphology values plus one appended value (another view), two classes told apart by column 0.
  const rng = createRng(3);
  const labels = Array.from({ length: 60 }, (_, i) => (i % 2 ? 'b' : 'a'));
  const rows = labels.map((l) => Float64Array.from({ length: MORPHOLOGY_LENGTH + 1 }, (_, c) => (c === 0 && l === 'b' ? 3 : 0) + rng.next()));
  const base = { rows, labels, classNames: ['a', 'b'], features: 'morphology' as const, classMap: 'test', trees: 5, maxDepth: 4, seed: 1, testFraction: 0 };
  const plain = trainCellClassifier(base).classifier;
  assert.deepEqual(plain.stain!.columns, [...MORPHOLOGY_COLOUR_COLUMNS]);
  assert.equal(plain.shapeForest!.numFeatures, MORPHOLOGY_LENGTH + 1 - MORPHOLOGY_COLOUR_COLUMNS.length);
  const withView = trainCellClassifier({ ...base, stainColumns: [...MORPHOLOGY_COLOUR_COLUMNS, MORPHOLOGY_LENGTH] }).classifier;
  assert.deepEqual(withView.stain!.columns, [...MORPHOLOGY_COLOUR_COLUMNS, MORPHOLOGY_LENGTH]);
  assert.equal(withView.shapeForest!.numFeatures, MORPHOLOGY_LENGTH - MORPHOLOGY_COLOUR_COLUMNS.length);
  assert.equal(withView.stain!.medians.length, MORPHOLOGY_COLOUR_COLUMNS.length + 1);
});
