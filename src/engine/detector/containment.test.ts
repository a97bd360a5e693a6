import { test } from 'node:test';
import assert from 'node:assert/strict';
import { suppressContained } from './containment.js';

test('a larger, lower-scoring box holding a kept box almost whole is dropped; a smaller box inside a larger kept one stays', () => {
  // 0: the cell; 1: a larger duplicate around it (IoU 0.25 < NMS 0.5, but holds box 0 whole); 2: a
  // neighbour touching box 0; 3: a small box inside box 2 with a higher score than box 2.
  const boxes = [10, 10, 50, 50, 0, 0, 80, 80, 50, 10, 90, 50, 60, 20, 70, 30];
  const scores = [0.99, 0.9, 0.8, 0.95];
  // 1 holds 0 (kept, higher score) whole: dropped. 2 is larger than 3 (kept, higher score) and holds it: dropped.
  assert.deepEqual(suppressContained(boxes, scores, 4, 0.9), [0, 3]);
  // A small box inside a larger box that scores higher stays (it may be a real neighbour).
  assert.deepEqual(suppressContained([0, 0, 80, 80, 10, 10, 30, 30], [0.99, 0.9], 2, 0.9), [0, 1]);
  // The touching neighbour alone stays.
  assert.deepEqual(suppressContained(boxes.slice(0, 12), scores.slice(0, 3), 3, 0.9), [0, 2]);
});

test('partial overlap below the threshold keeps both; 0 or one box is a no-op', () => {
  const boxes = [0, 0, 40, 40, 20, 0, 60, 40]; // half of each inside the other
  assert.deepEqual(suppressContained(boxes, [0.9, 0.8], 2, 0.9), [0, 1]);
  assert.deepEqual(suppressContained([0, 0, 40, 40, 20, 0, 70, 40], [0.9, 0.8], 2, 0.5), [0]);
  assert.deepEqual(suppressContained(boxes, [0.9, 0.8], 2, 0), [0, 1]);
  assert.deepEqual(suppressContained([1, 1, 2, 2], [0.5], 1, 0.9), [0]);
});
