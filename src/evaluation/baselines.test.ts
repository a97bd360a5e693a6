import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FEATURE_LENGTH } from '../engine/autoencoder/layout.js';
import { colourShapeFeatures, COLOUR_SHAPE_LENGTH, otsuThreshold, pooledFeatures, POOLED_LENGTH } from './baselines.js';

test('pooledFeatures: mean and standard deviation of each channel over 14x14', () => {
  const chw = new Float32Array(FEATURE_LENGTH);
  for (let p = 0; p < 196; p++) chw[p] = p % 2 ? 3 : 1; // channel 0: mean 2, sd 1
  chw.fill(5, 196 * 7, 196 * 8); // channel 7: constant 5
  const f = pooledFeatures(chw);
  assert.equal(f.length, POOLED_LENGTH);
  assert.equal(f[0], 2);
  assert.equal(f[256], 1);
  assert.equal(f[7], 5);
  assert.equal(f[256 + 7], 0);
  assert.throws(() => pooledFeatures(new Float32Array(10)), /256x14x14/);
});

test('otsuThreshold splits a two-level histogram between the levels', () => {
  const h = new Float64Array(256);
  h[40] = 100;
  h[200] = 300;
  const t = otsuThreshold(h);
  assert.ok(t >= 40 && t < 200, String(t));
});

test('colourShapeFeatures: a centred dark disc gives its area fraction, no offset, round shape', () => {
  const size = 64;
  const rgb = new Uint8Array(size * size * 3).fill(230);
  const r = 16;
  let inside = 0;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      if ((x - 31.5) ** 2 + (y - 31.5) ** 2 < r * r) {
        inside++;
        rgb.set([120, 40, 150], 3 * (y * size + x));
      }
    }
  }
  const f = colourShapeFeatures(rgb, size);
  assert.equal(f.length, COLOUR_SHAPE_LENGTH);
  for (const v of f) assert.ok(Number.isFinite(v));
  // histograms sum to 1 per channel
  let s = 0;
  for (let i = 0; i < 8; i++) s += f[i]!;
  assert.ok(Math.abs(s - 1) < 1e-9);
  const shape = f.subarray(COLOUR_SHAPE_LENGTH - 14);
  assert.ok(Math.abs(shape[0]! - inside / (size * size)) < 1e-9, `area ${shape[0]}`);
  assert.ok(shape[1]! < 0.01, `offset ${shape[1]}`);
  assert.ok(shape[3]! < 0.05, `elongation ${shape[3]}`);
  assert.ok(Math.abs(shape[7]! - 40 / 255) < 1e-9, 'mean green inside');
  assert.throws(() => colourShapeFeatures(new Uint8Array(5), 64), /RGB crop/);
});
