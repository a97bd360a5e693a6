import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nearestNeighbours } from './nearest-neighbours.js';
import { createRng, type Rng } from './rng.js';
import { standardNormal } from './synthetic-data.js';

/** The reference: every pair compared, in index order (the search the consensus made before nearestNeighbours). */
function everyPair(z: Float64Array, n: number, d: number, k: number): Int32Array {
  const nearest = new Int32Array(n * k);
  const best = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    best.fill(Infinity);
    const idx = nearest.subarray(i * k, (i + 1) * k);
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      let s = 0;
      for (let c = 0; c < d && s < best[k - 1]!; c++) {
        const t = z[i * d + c]! - z[j * d + c]!;
        s += t * t;
      }
      if (s >= best[k - 1]!) continue;
      let p = k - 1;
      while (p > 0 && best[p - 1]! > s) {
        best[p] = best[p - 1]!;
        idx[p] = idx[p - 1]!;
        p--;
      }
      best[p] = s;
      idx[p] = j;
    }
  }
  return nearest;
}

/** Rows of clustered values with a few strong directions, some rows repeated and some values on a coarse grid (ties). */
function rows(rng: Rng, n: number, d: number, style: 'clusters' | 'grid' | 'repeats' | 'line'): Float64Array {
  const z = new Float64Array(n * d);
  const centres = Array.from({ length: 4 }, () => Array.from({ length: d }, () => 3 * standardNormal(rng)));
  for (let i = 0; i < n; i++) {
    const shared = standardNormal(rng);
    for (let c = 0; c < d; c++) {
      let v = centres[i % 4]![c]! + shared * (c % 3) + 0.5 * standardNormal(rng);
      if (style === 'grid') v = Math.round(v);
      if (style === 'line') v = c === 0 ? i % 7 : 0;
      z[i * d + c] = v;
    }
    if (style === 'repeats' && i > 0 && rng.next() < 0.3) z.copyWithin(i * d, rng.nextInt(i) * d, rng.nextInt(i) * d + d);
  }
  return z;
}

test('nearestNeighbours finds what comparing every pair finds, in the same order, ties included', () => {
  const rng = createRng(41);
  let cases = 0;
  for (const style of ['clusters', 'grid', 'repeats', 'line'] as const) {
    for (const [n, d] of [[7, 1], [30, 2], [200, 5], [600, 12], [1500, 59]] as const) {
      for (const k of [1, 5, 6]) {
        if (k >= n) continue;
        const z = rows(rng, n, d, style);
        assert.deepStrictEqual(nearestNeighbours(z, n, d, k), everyPair(z, n, d, k), `${style} ${n} x ${d}, k ${k}`);
        cases++;
      }
    }
  }
  assert.equal(cases, 60);
});

test('nearestNeighbours refuses values that are not finite and a k it cannot fill', () => {
  assert.throws(() => nearestNeighbours(Float64Array.from([0, 1, NaN, 2]), 4, 1, 2), /row 2 has a value that is not finite/);
  assert.throws(() => nearestNeighbours(new Float64Array(4), 4, 1, 4), /k must lie in \[1, 3\]/);
});
