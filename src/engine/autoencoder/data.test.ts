import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cropBoxWithMargin, resizeCrop, scaleFeaturesMinMax } from './data.js';
import { PRESETS, planNetwork, resolvePreset } from './presets.js';
import { Rng } from './rng.js';

test('paper preset: every layer lands on the published sizes', () => {
  const plan = planNetwork(PRESETS.paper);
  assert.deepEqual(plan.encoder.map((l) => [l.outSize, l.cout]), [[12, 200], [5, 150], [3, 100], [2, 70], [1, 60], [1, 50]]);
  assert.deepEqual(plan.featureDecoder.map((l) => [l.outSize, l.cout]), [[5, 150], [12, 200], [14, 256]]);
  assert.deepEqual(plan.imageDecoder.map((l) => [l.outSize, l.cout]), [[31, 200], [63, 180], [127, 150], [128, 128], [128, 3]]);
  assert.deepEqual(plan.encoder.map((l) => l.groupNorm ?? 0), [32, 30, 10, 10, 20, 0]);
  assert.equal(plan.imageDecoder.at(-1)!.act, 'sigmoid');
  assert.equal(plan.featureDecoder.at(-1)!.act, 'tanh');
  assert.equal(plan.encoder.at(-1)!.act, 'tanh');
  // Same parameter count as the reference PyTorch module (weights + biases + GroupNorm gamma/beta).
  assert.equal(plan.parameterCount, 3_969_141);
});

test('cpu preset: same input and latent, smaller image', () => {
  const plan = planNetwork(PRESETS.cpu);
  assert.equal(PRESETS.cpu.inputSize, 14);
  assert.equal(PRESETS.cpu.inputChannels, 256);
  assert.equal(plan.encoder.at(-1)!.cout, 50);
  assert.equal(plan.imageDecoder.at(-1)!.outSize, PRESETS.cpu.imageSize);
  assert.ok(plan.forwardFlops < planNetwork(PRESETS.paper).forwardFlops / 50);
  assert.throws(() => resolvePreset({ ...PRESETS.cpu, imageSize: 60 }), /imageDecoder ends at 64x64x3, expected 60x60x3/);
});

test('scaleFeaturesMinMax: per-sample [-1, 1], idempotent, constant samples become 0', () => {
  const rng = new Rng(1);
  const n = 3;
  const per = 50;
  const f = rng.uniform(new Float32Array(n * per), 5).map((v, i) => v + (i < per ? 100 : 0));
  f.fill(7, 2 * per, 3 * per);
  const s = scaleFeaturesMinMax(f, n);
  for (let k = 0; k < 2; k++) {
    const part = s.subarray(k * per, (k + 1) * per);
    assert.equal(Math.min(...part), -1);
    assert.ok(Math.abs(Math.max(...part) - 1) < 1e-6);
  }
  assert.deepEqual(Array.from(s.subarray(2 * per)), new Array(per).fill(0));
  const again = scaleFeaturesMinMax(s, n);
  for (let i = 0; i < s.length; i++) assert.ok(Math.abs(again[i]! - s[i]!) < 1e-6);
});

test('resizeCrop: bilinear with half-pixel centres, uint8 scaled to [0, 1]', () => {
  // 2x2 RGB -> 4x4: the corners keep their values, the centre rows/cols interpolate at 1/4 and 3/4.
  const data = new Uint8Array([0, 0, 0, 255, 255, 255, 0, 0, 0, 255, 255, 255]);
  const out = resizeCrop({ data, width: 2, height: 2, channels: 3 }, 4);
  const row = [0, 1, 2, 3].map((x) => out[(0 * 4 + x) * 3]!);
  assert.deepEqual(row.map((v) => +v.toFixed(4)), [0, 0.25, 0.75, 1]);
  // Identity size is exact; RGBA drops alpha; grey replicates.
  const rgba = new Uint8Array([10, 20, 30, 255]);
  assert.deepEqual(Array.from(resizeCrop({ data: rgba, width: 1, height: 1, channels: 4 }, 1)).map((v) => Math.round(v * 255)), [10, 20, 30]);
  const grey = new Float32Array([0.5]);
  assert.deepEqual(Array.from(resizeCrop({ data: grey, width: 1, height: 1, channels: 1 }, 2)), new Array(12).fill(0.5));
  assert.deepEqual(cropBoxWithMargin([50, 60, 150, 170], 360, 363), [40, 50, 170, 190]);
  assert.deepEqual(cropBoxWithMargin([5, 5, 350, 355], 360, 363), [0, 0, 360, 363]);
});

test('Rng: seeded, uniform-ish, state round trip', () => {
  const a = new Rng(42);
  const b = new Rng(42);
  const xs = Array.from({ length: 1000 }, () => a.next());
  assert.deepEqual(xs, Array.from({ length: 1000 }, () => b.next()));
  const mean = xs.reduce((s, v) => s + v, 0) / xs.length;
  assert.ok(Math.abs(mean - 0.5) < 0.05);
  const st = a.getState();
  const c = new Rng(st);
  assert.equal(c.next(), a.next());
  const p = new Rng(7).permutation(10);
  assert.deepEqual([...p].sort((x, y) => x - y), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});
