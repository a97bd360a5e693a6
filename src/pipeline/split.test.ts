import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stratifiedSplit } from './split.js';

const labels = [...Array(50).fill('neutrophil'), ...Array(20).fill('lymphocyte'), ...Array(3).fill('basophil'), 'blast'];

test('80/20 per class, disjoint and complete', () => {
  const { train, test: held } = stratifiedSplit(labels, { seed: 1 });
  const count = (rows: number[], l: string): number => rows.filter((i) => labels[i] === l).length;
  assert.equal(count(held, 'neutrophil'), 10);
  assert.equal(count(held, 'lymphocyte'), 4);
  assert.equal(count(held, 'basophil'), 1);
  assert.equal(count(held, 'blast'), 0); // a single row stays in train
  assert.deepEqual([...train, ...held].sort((a, b) => a - b), labels.map((_, i) => i));
  assert.deepEqual(train, [...train].sort((a, b) => a - b));
});

test('seeded: same seed same split, another seed another split', () => {
  assert.deepEqual(stratifiedSplit(labels, { seed: 3 }), stratifiedSplit(labels, { seed: 3 }));
  assert.notDeepEqual(stratifiedSplit(labels, { seed: 3 }).test, stratifiedSplit(labels, { seed: 4 }).test);
  assert.equal(stratifiedSplit([1, 1, 2, 2, 2, 2, 2], { testFraction: 0.5 }).test.length, 4);
});

test('bad input throws', () => {
  assert.throws(() => stratifiedSplit([]), /no rows/);
  assert.throws(() => stratifiedSplit(['a'], { testFraction: 1 }), /testFraction/);
});
