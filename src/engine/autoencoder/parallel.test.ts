import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initTfjs } from '../backends/tfjs.js';
import { createAutoencoder, disposeAutoencoder, encode, trainStep, PRESETS } from './index.js';
import { chooseTrainingWorkers, createTrainingPool, flatSize, readParams, splitRows } from './parallel.js';
import { relativeL2, syntheticCells } from './fixtures.js';

const rt = await initTfjs({ prefer: 'wasm' });
const opts = { runtime: rt };

// A source batch, another domain with images (reconstructed and aligned) and one given as features only
// (aligned only): every path of the sharded step.
const src = syntheticCells(11, PRESETS.cpu.imageSize, 31);
const other = syntheticCells(7, PRESETS.cpu.imageSize, 131, { domainShift: 0.4 });
const third = syntheticCells(5, PRESETS.cpu.imageSize, 231, { domainShift: -0.3 });
const align = [other, third.features];

test('worker-count invariance: one step, loss and gradient for 0, 1 and 2 workers, and against trainStep', async () => {
  const m = await createAutoencoder('cpu', 5, opts);
  const grads: Float32Array[] = [];
  const losses: number[] = [];
  try {
    for (const workers of [0, 1, 2]) {
      const pool = await createTrainingPool(m, { workers });
      try {
        const g = await pool.gradients(m, src, align);
        assert.equal(g.alignPerDomain.length, 2);
        assert.equal(g.reconstructed, 18);
        assert.equal(g.encodedOnly, 5);
        grads.push(g.grads);
        losses.push(g.loss);
      } finally {
        await pool.close();
      }
    }
    assert.equal(m.step, 0, 'gradients() does not update');
    // The same step through trainStep (model.ts), from the same initial weights.
    const ref = await createAutoencoder('cpu', 5, opts);
    const before = new Float32Array(flatSize(ref));
    readParams(ref, before);
    const r = await trainStep(ref, src, align);
    const afterRef = new Float32Array(flatSize(ref));
    readParams(ref, afterRef);
    disposeAutoencoder(ref);
    const pool = await createTrainingPool(m, { workers: 1 });
    const p = await pool.trainStep(m, src, align);
    await pool.close();
    const after = new Float32Array(flatSize(m));
    readParams(m, after);
    const d1 = relativeL2(grads[1]!, grads[0]!);
    const d2 = relativeL2(grads[2]!, grads[0]!);
    const ua = subtract(afterRef, before);
    const ub = subtract(after, before);
    let flipped = 0;
    for (let i = 0; i < ua.length; i++) if (Math.abs(ua[i]! - ub[i]!) > 1e-4) flipped++;
    console.log(`losses ${losses.map((v) => v.toFixed(7)).join(', ')} (trainStep ${r.loss.toFixed(7)}); gradient rel. L2 diff 1 vs 0 workers ${d1.toExponential(2)}, 2 vs 0 ${d2.toExponential(2)}; Adam update: ${flipped} of ${ua.length} parameters moved differently from trainStep's (> 1e-4)`);
    // The loss's means are float32 reductions over ~1e5 values on wasm (about 1e-4 relative rounding; the
    // shards sum fewer values each), while its gradient is not a reduction of that kind.
    for (const l of [...losses, p.loss]) assert.ok(Math.abs(l - r.loss) <= 5e-4 * r.loss, `loss ${l} vs trainStep ${r.loss}`);
    // Float32 rounding of sums taken in another order (bit-identical on the cpu backend for one thread).
    assert.ok(d1 < 1e-4 && d2 < 1e-4, `gradients differ by ${d1}, ${d2} (relative L2)`);
    // Adam's first update is about lr * sign(g) (lr 1e-3): where a gradient is near zero, its sign can differ
    // by rounding (the alignment's gradient through the encoder differs by ~5e-5 relative between the two
    // formulations on wasm, and is bit-identical on the cpu backend), which moves that parameter by 2 lr.
    assert.ok(flipped <= 1e-4 * ua.length, `${flipped} of ${ua.length} parameters moved differently from trainStep's`);
    const z0 = await encode(m, src.features, src.n);
    const encPool = await createTrainingPool(m, { workers: 2 });
    const z1 = await encPool.encode(m, src.features, src.n);
    await encPool.close();
    assert.ok(relativeL2(z1, z0) < 1e-5, `latents differ by ${relativeL2(z1, z0)}`);
  } finally {
    disposeAutoencoder(m);
  }
});

function subtract(a: Float32Array, b: Float32Array): Float32Array {
  return a.map((v, i) => v - b[i]!);
}

test('splitRows and the engine choice', () => {
  assert.deepEqual(splitRows(7, 3), [[0, 3], [3, 2], [5, 2]]);
  assert.deepEqual(splitRows(1, 2), [[0, 1], [1, 0]]);
  assert.equal(chooseTrainingWorkers({ backend: 'webgpu' }, 64), 0);
  assert.equal(chooseTrainingWorkers({ backend: 'wasm' }, 8), 0);
  const prev = process.env.LEUKOGRAPH_AE_WORKERS;
  process.env.LEUKOGRAPH_AE_WORKERS = '3';
  try {
    assert.equal(chooseTrainingWorkers({ backend: 'webgpu' }, 64), 3);
  } finally {
    if (prev === undefined) delete process.env.LEUKOGRAPH_AE_WORKERS;
    else process.env.LEUKOGRAPH_AE_WORKERS = prev;
  }
});
