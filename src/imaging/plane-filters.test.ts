import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gaussianBlur, otsuFloat, percentile } from './plane-filters.js';

test('gaussianBlur keeps a constant plane and the mass of a centred spike, and spreads it symmetrically', () => {
  const w = 21;
  const flat = new Float64Array(w * w).fill(3);
  assert.ok(gaussianBlur(flat, w, w, 2).every((v) => Math.abs(v - 3) < 1e-12));
  const spike = new Float64Array(w * w);
  spike[10 * w + 10] = 1;
  const b = gaussianBlur(spike, w, w, 1.5);
  assert.ok(Math.abs(b.reduce((a, v) => a + v, 0) - 1) < 1e-9);
  assert.ok(Math.abs(b[10 * w + 8]! - b[10 * w + 12]!) < 1e-12 && Math.abs(b[8 * w + 10]! - b[10 * w + 8]!) < 1e-12);
  assert.ok(b[10 * w + 10]! < 0.1 && b[10 * w + 10]! > b[10 * w + 11]!);
  assert.deepEqual(gaussianBlur(spike, w, w, 0), spike);
  assert.throws(() => gaussianBlur(spike, w, w + 1, 1), /values for/);
});

test('otsuFloat separates two clusters of values, and honours a mask', () => {
  const v = Float64Array.from([0.1, 0.12, 0.09, 0.11, 0.9, 0.95, 0.88, 0.91, 0.93]);
  const t = otsuFloat(v);
  assert.ok(t > 0.12 && t < 0.88, String(t));
  const mask = Uint8Array.from([1, 1, 1, 1, 0, 0, 0, 0, 0]);
  const tm = otsuFloat(v, mask);
  assert.ok(tm >= 0.09 && tm <= 0.12, String(tm));
  assert.ok(Number.isNaN(otsuFloat(v, new Uint8Array(9))));
  assert.equal(otsuFloat(Float64Array.from([2, 2, 2])), 2);
});

test('percentile interpolates between order statistics (numpy\'s default)', () => {
  const v = [4, 1, 3, 2, 5];
  assert.equal(percentile(v, 0), 1);
  assert.equal(percentile(v, 50), 3);
  assert.equal(percentile(v, 100), 5);
  assert.equal(percentile(v, 90), 4.6);
  assert.ok(Number.isNaN(percentile([], 50)));
});

test('percentile on an order statistic ignores an infinite neighbour (as numpy.median does; numpy.percentile gives NaN)', () => {
  assert.equal(percentile([1, 3, Infinity], 50), 3);
  assert.equal(percentile([-Infinity, 2, 4], 50), 2);
  assert.equal(percentile([1, 3, 5, Infinity], 50), 4);
});
