import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cutByBorder } from './border.js';

test('cutByBorder: a box within 2 px of any image edge is cut; one further inside is complete', () => {
  assert.equal(cutByBorder([100, 100, 200, 200], 360, 363), false);
  assert.equal(cutByBorder([2, 2, 358, 361], 360, 363), false); // exactly 2 px inside: complete
  assert.equal(cutByBorder([1.9, 100, 200, 200], 360, 363), true);
  assert.equal(cutByBorder([100, 0, 200, 200], 360, 363), true);
  assert.equal(cutByBorder([100, 100, 358.5, 200], 360, 363), true);
  assert.equal(cutByBorder([100, 100, 200, 363], 360, 363), true);
  assert.equal(cutByBorder([10, 10, 20, 20], 360, 363, 15), true);
});
