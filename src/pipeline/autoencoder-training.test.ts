// The epoch loop with the engine's data-parallel workers (engine/autoencoder/parallel.ts) and with the
// onnxruntime training step (engine/autoencoder/onnx-train.ts) against the same loop on one tfjs thread:
// same seed, same cells, epochs' losses and the final latents to float tolerance.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initTfjs } from '../engine/backends/tfjs.js';
import { createAutoencoder, disposeAutoencoder, encode, PRESETS } from '../engine/autoencoder/index.js';
import { syntheticCells } from '../engine/autoencoder/fixtures.js';
import { trainAutoencoderEpochs } from './autoencoder-training.js';
import type { AlignmentSet, AutoencoderTrainingSet } from './types.js';
import type { TrainingBackend } from '../engine/autoencoder/index.js';

const rt = await initTfjs({ prefer: 'wasm' });
const FS = 14 * 14 * 256;
const size = PRESETS.cpu.imageSize;
const src = syntheticCells(20, size, 41);
const lab = syntheticCells(12, size, 141, { domainShift: 0.4 });
const pick = (data: Float32Array, per: number, idx: readonly number[]) => {
  const out = new Float32Array(idx.length * per);
  idx.forEach((j, i) => out.set(data.subarray(j * per, (j + 1) * per), i * per));
  return out;
};
const source: AutoencoderTrainingSet = { count: src.n, features: async (i) => pick(src.features, FS, i), images: async (i) => pick(src.images, size * size * 3, i) };
const align: AlignmentSet[] = [{ count: lab.n, features: async (i) => pick(lab.features, FS, i) }];

const run = async (workers: number, trainBackend: TrainingBackend) => {
  const m = await createAutoencoder('cpu', 9, { runtime: rt });
  try {
    const r = await trainAutoencoderEpochs(m, source, align, { seed: 9, epochs: 2, batchSize: 10, learningRate: 1e-3, alignWeight: 5, workers, trainBackend });
    return { losses: r.epochs.map((e) => e.loss), z: await encode(m, src.features, src.n), step: m.step };
  } finally {
    disposeAutoencoder(m);
  }
};
const single = run(0, 'tfjs');

for (const [label, workers, backend] of [['1 worker thread', 1, 'tfjs'], ['the onnxruntime step', 0, 'onnx']] as const) test(`trainAutoencoderEpochs: ${label} gives the losses and latents of the single-thread loop`, async () => {
  const a = await single;
  const b = await run(workers, backend);
  assert.equal(b.step, a.step);
  console.log(`epoch losses, one thread ${a.losses.map((v) => v.toFixed(5)).join(' ')}; ${label} ${b.losses.map((v) => v.toFixed(5)).join(' ')}`);
  a.losses.forEach((v, i) => assert.ok(Math.abs(v - b.losses[i]!) < 5e-3 * v, `epoch ${i + 1}: ${v} vs ${b.losses[i]}`));
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.z.length; i++) {
    num += (a.z[i]! - b.z[i]!) ** 2;
    den += a.z[i]! ** 2;
  }
  assert.ok(Math.sqrt(num / den) < 5e-3, `latents differ by ${Math.sqrt(num / den)} (relative L2)`);
});
