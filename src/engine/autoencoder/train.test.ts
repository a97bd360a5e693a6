import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initTfjs } from '../backends/tfjs.js';
import {
  createAutoencoder,
  decodeWeightsFile,
  describeAutoencoder,
  disposeAutoencoder,
  encode,
  encodeWeightsFile,
  liveTensorCount,
  loadAutoencoder,
  loadCheckpoint,
  reconstruct,
  saveCheckpoint,
  saveWeights,
  shuffledIndices,
  trainStep,
  PRESETS,
  type TrainStepResult,
} from './index.js';
import { syntheticCells } from './fixtures.js';

// Tests pin the wasm backend (the one this machine has), so they never probe WebGPU or tfjs-node.
const rt = await initTfjs({ prefer: 'wasm' });
const opts = { runtime: rt };

test('cpu preset overfits 24 synthetic cells: loss halves within 40 full-batch steps', async () => {
  const cells = syntheticCells(24, PRESETS.cpu.imageSize, 11);
  const m = await createAutoencoder('cpu', 1, opts);
  const hist: TrainStepResult[] = [];
  for (let i = 0; i < 40; i++) hist.push(await trainStep(m, cells));
  const first = hist[0]!;
  const last = hist.at(-1)!;
  console.log(
    `cpu: loss ${first.loss.toFixed(3)} -> ${last.loss.toFixed(3)}, mse ${first.mse.toFixed(3)} -> ${last.mse.toFixed(3)}, ` +
      `ssim ${first.ssim.toFixed(3)} -> ${last.ssim.toFixed(3)}, ${(hist.slice(5).reduce((s, r) => s + r.ms, 0) / 35).toFixed(0)} ms/step`,
  );
  assert.ok(last.loss < 0.5 * first.loss, `loss ${first.loss} -> ${last.loss}`);
  assert.ok(last.mse < 0.2 * first.mse, `mse ${first.mse} -> ${last.mse}`);
  assert.ok(last.ssim > first.ssim, `ssim ${first.ssim} -> ${last.ssim}`);
  assert.equal(last.align, 0);
  assert.equal(m.step, 40);
  disposeAutoencoder(m);
});

test('paper preset trains: loss falls by a quarter within 6 steps on 2 cells (128x128 images)', async () => {
  const cells = syntheticCells(2, PRESETS.paper.imageSize, 12);
  const m = await createAutoencoder('paper', 1, opts);
  const info = describeAutoencoder(m);
  assert.equal(info.parameterCount, 3_969_141);
  assert.deepEqual(info.imageShape, [128, 128, 3]);
  const hist: TrainStepResult[] = [];
  for (let i = 0; i < 6; i++) hist.push(await trainStep(m, cells));
  const first = hist[0]!;
  const last = hist.at(-1)!;
  console.log(`paper: loss ${hist.map((r) => r.loss.toFixed(3)).join(' ')}; ${(hist.slice(1).reduce((s, r) => s + r.ms, 0) / 5).toFixed(0)} ms/step at batch 2`);
  assert.ok(last.loss < 0.75 * first.loss, `loss ${first.loss} -> ${last.loss}`);
  const z = await encode(m, cells.features, 2);
  assert.equal(z.length, 2 * 50);
  assert.ok(z.every((v) => v >= -1 && v <= 1));
  const r = await reconstruct(m, cells.features.subarray(0, 14 * 14 * 256), 1);
  assert.equal(r.images.length, 128 * 128 * 3);
  assert.ok(r.images.every((v) => v >= 0 && v <= 1));
  disposeAutoencoder(m);
});

function batches(seed: number) {
  const src = syntheticCells(8, PRESETS.cpu.imageSize, seed);
  const other = syntheticCells(8, PRESETS.cpu.imageSize, seed + 100, { domainShift: 0.4 });
  const third = syntheticCells(6, PRESETS.cpu.imageSize, seed + 200, { domainShift: -0.3 });
  return { src, align: [other.features, third.features] };
}

test('same seed and batches give the same losses; another seed does not', async () => {
  const { src, align } = batches(21);
  const run = async (seed: number) => {
    const m = await createAutoencoder('cpu', seed, opts);
    const out: number[][] = [];
    for (let i = 0; i < 3; i++) {
      const r = await trainStep(m, src, align);
      out.push([r.loss, r.ssim, r.mse, r.align, ...r.alignPerDomain]);
    }
    disposeAutoencoder(m);
    return out;
  };
  const a = await run(5);
  const b = await run(5);
  const c = await run(6);
  for (let i = 0; i < a.length; i++) {
    for (let j = 0; j < a[i]!.length; j++) {
      assert.ok(Math.abs(a[i]![j]! - b[i]![j]!) <= 1e-6 * Math.max(1, Math.abs(a[i]![j]!)), `step ${i} term ${j}: ${a[i]![j]} vs ${b[i]![j]}`);
    }
  }
  assert.equal(a[0]!.length, 6, 'loss, ssim, mse, align + two domains');
  assert.ok(a[0]![3]! > 0);
  assert.notEqual(a[0]![0], c[0]![0]);
});

test('checkpoint save -> load -> continue gives the same next loss as uninterrupted training', async () => {
  const { src, align } = batches(31);
  const a = await createAutoencoder('cpu', 9, opts);
  await trainStep(a, src, align);
  await trainStep(a, src, align);
  shuffledIndices(a, 10); // advance the generator: its state is part of the checkpoint
  const bytes = await saveCheckpoint(a);
  const nextA = await trainStep(a, src, align);
  const permA = shuffledIndices(a, 50);

  const b = await loadCheckpoint(bytes, opts);
  assert.equal(b.step, 2);
  assert.equal(b.preset.name, 'cpu');
  const nextB = await trainStep(b, src, align);
  assert.equal(nextB.step, 3);
  assert.equal(nextB.loss, nextA.loss);
  assert.equal(nextB.mse, nextA.mse);
  assert.deepEqual(shuffledIndices(b, 50), permA);
  // A fresh model with the same seed but no restored optimizer state diverges at that step.
  const c = await createAutoencoder('cpu', 9, opts);
  const fresh = await trainStep(c, src, align);
  assert.notEqual(fresh.loss, nextA.loss);
  // Corrupt files are refused.
  assert.throws(() => decodeWeightsFile(bytes.slice(0, 20)), /truncated|not a leukograph/);
  assert.throws(() => decodeWeightsFile(new Uint8Array(64)), /not a leukograph/);
  for (const m of [a, b, c]) disposeAutoencoder(m);
});

test('weights file round trip gives identical latents; encode is n x 50 in [-1, 1]', async () => {
  const { src } = batches(41);
  const a = await createAutoencoder('cpu', 3, opts);
  await trainStep(a, src);
  const w = await saveWeights(a);
  assert.equal(w.step, 1);
  assert.equal(w.names.length, w.data.length);
  const file = encodeWeightsFile(w);
  assert.equal(decodeWeightsFile(file).kind, 'weights');
  const b = await loadAutoencoder(file, opts);
  const za = await encode(a, src.features, src.n);
  const zb = await encode(b, src.features, src.n, { chunk: 3 });
  assert.equal(za.length, src.n * 50);
  assert.deepEqual(zb, za);
  assert.ok(za.every((v) => v >= -1 && v <= 1));
  assert.ok(za.some((v) => Math.abs(v) > 1e-3));
  // Raw and pre-scaled features encode the same (inputs are min-max scaled per sample inside).
  const scaled = src.features.map((v) => v * 3 - 7);
  const zc = await encode(a, scaled, src.n);
  for (let i = 0; i < za.length; i++) assert.ok(Math.abs(zc[i]! - za[i]!) < 1e-4);
  disposeAutoencoder(a);
  disposeAutoencoder(b);
});

test('no tensor leaks over many steps, encodes and reconstructions; disposal frees everything', async () => {
  const { src, align } = batches(51);
  const base = liveTensorCount(rt);
  const m = await createAutoencoder('cpu', 4, opts);
  await trainStep(m, src, align);
  const after1 = liveTensorCount(m);
  for (let i = 0; i < 4; i++) await trainStep(m, src, i % 2 ? align : []);
  await encode(m, src.features, src.n);
  await reconstruct(m, src.features, src.n);
  await saveCheckpoint(m);
  assert.equal(liveTensorCount(m), after1);
  disposeAutoencoder(m);
  assert.equal(liveTensorCount(rt), base);
  await assert.rejects(trainStep(m, src), /disposed/);
});

test('other domains given with images join the reconstruction (the reference mixed batch)', async () => {
  const a = syntheticCells(6, PRESETS.cpu.imageSize, 71);
  const b = syntheticCells(6, PRESETS.cpu.imageSize, 72, { domainShift: 0.4 });
  const both = {
    n: 12,
    features: new Float32Array([...a.features, ...b.features]),
    images: new Float32Array([...a.images, ...b.images]),
  };
  const m1 = await createAutoencoder('cpu', 8, opts);
  const m2 = await createAutoencoder('cpu', 8, opts);
  // Without the alignment term, "source + another domain with images" is one 12-cell batch.
  const r1 = await trainStep(m1, a, [b], { alignWeight: 0 });
  const r2 = await trainStep(m2, both, [], { alignWeight: 0 });
  assert.equal(r1.reconstructed, 12);
  assert.ok(Math.abs(r1.loss - r2.loss) < 1e-5, `${r1.loss} vs ${r2.loss}`);
  assert.ok(Math.abs(r1.ssim - r2.ssim) < 1e-5);
  // With it, the same step also aligns a's latents to b's.
  const r3 = await trainStep(m1, a, [b, b.features]);
  assert.equal(r3.reconstructed, 12);
  assert.equal(r3.encodedOnly, 6);
  assert.equal(r3.alignPerDomain.length, 2);
  assert.ok(Math.abs(r3.alignPerDomain[0]! - r3.alignPerDomain[1]!) < 1e-6, 'same cells, same alignment');
  disposeAutoencoder(m1);
  disposeAutoencoder(m2);
});

test('bad inputs are refused with a clear message', async () => {
  const { src, align } = batches(61);
  const m = await createAutoencoder('cpu', 4, opts);
  await assert.rejects(trainStep(m, { ...src, n: 7 }), /expected 7 samples/);
  await assert.rejects(trainStep(m, src, [align[0]!.subarray(0, 14 * 14 * 256)]), /at least 2 are needed/);
  await assert.rejects(encode(m, src.features.subarray(1), 8), /whole number/);
  disposeAutoencoder(m);
});
