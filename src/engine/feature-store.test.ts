import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FeatureStore, FEATURE_LENGTH, toHalf, fromHalf, chwToHwc } from './feature-store.js';

test('float16 conversion: exact values, rounding, limits', () => {
  for (const v of [0, 1, -2, 0.5, 65504, 6.103515625e-5, -0.0009765625]) assert.equal(fromHalf(toHalf(v)), v);
  assert.equal(toHalf(1), 0x3c00);
  assert.equal(fromHalf(toHalf(1e6)), Infinity);
  assert.ok(Math.abs(fromHalf(toHalf(0.1)) - 0.1) < 1e-4);
  assert.ok(Math.abs(fromHalf(toHalf(1e-6)) - 1e-6) < 1e-7, 'subnormals');
  for (let i = 0; i < 1000; i++) {
    const v = (Math.random() - 0.5) * 20;
    assert.ok(Math.abs(fromHalf(toHalf(v)) - v) <= Math.abs(v) * 1e-3 + 1e-7);
  }
});

test('features of an image round-trip through the store', async () => {
  const store = new FeatureStore(mkdtempSync(join(tmpdir(), 'fs-')));
  const a = Float32Array.from({ length: FEATURE_LENGTH }, (_, i) => Math.sin(i));
  const b = Float32Array.from({ length: FEATURE_LENGTH }, (_, i) => Math.cos(i) * 3);
  const file = store.fileFor('det', 'abcdef');
  await store.write(file, [a, b]);
  const rb = await store.read(FeatureStore.ref(file, 1));
  for (let i = 0; i < FEATURE_LENGTH; i += 97) assert.ok(Math.abs(rb[i] - b[i]) < 3e-3);
  await assert.rejects(store.read(FeatureStore.ref(file, 2)), /not in/);
});

test('CHW to HWC moves channels last', () => {
  const chw = Float32Array.from({ length: FEATURE_LENGTH }, (_, i) => i);
  const hwc = chwToHwc(chw);
  // channel 3 at pixel (row 2, col 5)
  assert.equal(hwc[(2 * 14 + 5) * 256 + 3], 3 * 196 + 2 * 14 + 5);
});
