import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initTfjs, type Tensor4D } from '../backends/tfjs.js';
import { createOnnxSessionFromBytes, disposeOnnxSession, runOnnx } from '../backends/onnx.js';
import { createAutoencoder, disposeAutoencoder, trainStep, PRESETS } from './index.js';
import { createTrainingPool, flatSize, readParams } from './parallel.js';
import { relativeL2 as relDiff, syntheticCells } from './fixtures.js';
import { GraphBuilder } from './onnx-graph.js';
import { chooseTrainingBackend, createOnnxTrainer, filterFromOnnx, filterToOnnx } from './onnx-train.js';
import { Rng } from './rng.js';

const rt = await initTfjs({ prefer: 'wasm' });
const opts = { runtime: rt };

/** ONNX-layout gradients, flattened in the tfjs layout and model.params order (parallel.ts's flat form). */
function flatTfjs(grads: Float32Array[], shapes: number[][]): Float32Array {
  const out = new Float32Array(shapes.reduce((s, sh) => s + sh.reduce((a, b) => a * b, 1), 0));
  let off = 0;
  grads.forEach((g, i) => {
    const sh = shapes[i]!;
    out.set(sh.length === 4 ? filterFromOnnx(g, sh[0]!, sh[2]!, sh[3]!) : g, off);
    off += g.length;
  });
  return out;
}

// The paths of a step: a source batch, another domain with images (reconstructed and aligned) and one
// given as features only (aligned only).
const src = syntheticCells(5, PRESETS.cpu.imageSize, 31);
const other = syntheticCells(3, PRESETS.cpu.imageSize, 131, { domainShift: 0.4 });
const third = syntheticCells(2, PRESETS.cpu.imageSize, 231, { domainShift: -0.3 });
const align = [other, third.features];

for (const alignScale of ['raw', 'standardised'] as const) {
  test(`onnx training step (${alignScale}): loss, terms and every gradient as the tfjs step's`, async () => {
    const m = await createAutoencoder('cpu', 5, opts);
    const shapes = m.params.map((q) => [...q.v.shape]);
    const pool = await createTrainingPool(m, { workers: 0 });
    const trainer = await createOnnxTrainer(m, { threads: 1 });
    try {
      const ref = await pool.gradients(m, src, align, { alignScale });
      const got = await trainer.gradients(m, src, align, { alignScale });
      assert.ok(Math.abs(got.loss - ref.loss) <= 1e-4 * Math.abs(ref.loss), `loss ${got.loss} vs ${ref.loss}`);
      // Float tolerance: tfjs-wasm's own kernels differ from the exact float32 tfjs cpu backend by up to 7e-5
      // (relative) in these terms and 5e-5 in the gradients, the onnx graph by 7e-6 and 3e-5 (measured, this batch);
      // the gradients are held to 1e-4 relative against wasm (issue 23), the terms to 2e-4 absolute.
      assert.ok(Math.abs(got.ssim - ref.ssim) < 2e-4, `ssim ${got.ssim} vs ${ref.ssim}`);
      assert.ok(Math.abs(got.mse - ref.mse) < 2e-4, `mse ${got.mse} vs ${ref.mse}`);
      assert.equal(got.alignPerDomain.length, 2);
      got.alignPerDomain.forEach((a, i) => assert.ok(Math.abs(a - ref.alignPerDomain[i]!) <= 1e-4 * Math.abs(ref.alignPerDomain[i]!) + 1e-7, `align ${i}: ${a} vs ${ref.alignPerDomain[i]}`));
      const g = flatTfjs(got.grads, shapes);
      // Per parameter too, so that a wrong rule on a small tensor cannot hide in the total.
      let off = 0;
      m.params.forEach((q) => {
        const a = g.subarray(off, off + q.v.size);
        const b = ref.grads.subarray(off, off + q.v.size);
        off += q.v.size;
        assert.ok(relDiff(a, b) < 1e-4, `${q.name}: gradient rel diff ${relDiff(a, b)}`);
      });
      assert.ok(relDiff(g, ref.grads) < 1e-4, `total gradient rel diff ${relDiff(g, ref.grads)}`);
    } finally {
      await trainer.close();
      await pool.close();
      disposeAutoencoder(m);
    }
  });
}

test('onnx training: two steps update the model (params, Adam state, step) as trainStep does', async () => {
  const ref = await createAutoencoder('cpu', 7, opts);
  const m = await createAutoencoder('cpu', 7, opts);
  const trainer = await createOnnxTrainer(m, { threads: 1 });
  try {
    const batch2 = syntheticCells(4, PRESETS.cpu.imageSize, 77);
    for (const b of [src, batch2]) {
      const r0 = await trainStep(ref, b, align);
      const r1 = await trainer.trainStep(m, b, align);
      assert.equal(r1.step, r0.step);
      assert.equal(r1.reconstructed, r0.reconstructed);
      assert.equal(r1.encodedOnly, r0.encodedOnly);
      assert.ok(Math.abs(r1.loss - r0.loss) <= 1e-4 * Math.abs(r0.loss), `loss ${r1.loss} vs ${r0.loss}`);
    }
    assert.equal(m.step, 2);
    const a = new Float32Array(flatSize(m));
    const b = new Float32Array(flatSize(ref));
    readParams(m, a);
    readParams(ref, b);
    // Adam's first steps move each weight by about lr, whatever the gradient's size: compare the update.
    const init = await createAutoencoder('cpu', 7, opts);
    const a0 = new Float32Array(flatSize(init));
    readParams(init, a0);
    disposeAutoencoder(init);
    const da = a.map((v, i) => v - a0[i]!);
    const db = b.map((v, i) => v - a0[i]!);
    assert.ok(relDiff(da, db) < 1e-2, `update rel diff ${relDiff(da, db)}`);
    trainer.flush(m); // the Adam state is written on flush (and close)
    const mv = m.adamV.map((v) => v.dataSync() as Float32Array);
    const rv = ref.adamV.map((v) => v.dataSync() as Float32Array);
    mv.forEach((v, i) => assert.ok(relDiff(v, rv[i]!) < 5e-3, `adam v ${m.params[i]!.name}: ${relDiff(v, rv[i]!)}`));
  } finally {
    await trainer.close();
    disposeAutoencoder(ref);
    disposeAutoencoder(m);
  }
});

test('filter layout: tfjs [k,k,a,b] <-> ONNX [b,a,k,k] round trip and element placement', () => {
  const k = 3;
  const a = 2;
  const b = 4;
  const src = Float32Array.from({ length: k * k * a * b }, (_, i) => i);
  const o = filterToOnnx(src, k, a, b);
  // tfjs [kh=1, kw=2, a=1, b=3] is ONNX [3, 1, 1, 2]
  assert.equal(o[((3 * a + 1) * k + 1) * k + 2], ((1 * k + 2) * a + 1) * b + 3);
  assert.deepEqual(Array.from(filterFromOnnx(o, k, a, b)), Array.from(src));
});

// Each convolution gradient rule against TensorFlow.js's own gradients, with floor cases (a stride that
// leaves input rows unused: the ConvTranspose needs output_padding).
for (const c of [
  { kind: 'conv', n: 2, cin: 3, cout: 4, size: 8, k: 3, s: 2 },
  { kind: 'conv', n: 2, cin: 5, cout: 3, size: 6, k: 1, s: 1 },
  { kind: 'conv', n: 2, cin: 5, cout: 3, size: 4, k: 1, s: 1, nhwc: true },
  { kind: 'conv', n: 1, cin: 2, cout: 3, size: 7, k: 2, s: 3 },
  { kind: 'conv', n: 3, cin: 4, cout: 5, size: 2, k: 2, s: 1 },
  { kind: 'convT', n: 3, cin: 4, cout: 2, size: 1, k: 5, s: 1 },
  { kind: 'convT', n: 2, cin: 3, cout: 4, size: 5, k: 4, s: 2 },
  { kind: 'convT', n: 2, cin: 4, cout: 2, size: 3, k: 3, s: 1 },
  { kind: 'convT', n: 2, cin: 3, cout: 2, size: 4, k: 3, s: 2 },
  { kind: 'convT', n: 1, cin: 2, cout: 3, size: 3, k: 5, s: 2 },
  { kind: 'convT', n: 1, cin: 2, cout: 2, size: 3, k: 2, s: 3 },
] as const) {
  test(`gradient rule ${c.kind}${'nhwc' in c ? ' (conv1x1Nhwc)' : ''} k${c.k} s${c.s} ${c.size}x${c.size}: output, input, weight and bias gradients as tfjs's`, async () => {
    const tf = rt.tf;
    const rng = new Rng(3);
    const out = c.kind === 'conv' ? Math.floor((c.size - c.k) / c.s) + 1 : (c.size - 1) * c.s + c.k;
    const xs: number[] = [c.n, c.size, c.size, c.cin];
    const ws: number[] = c.kind === 'conv' ? [c.k, c.k, c.cin, c.cout] : [c.k, c.k, c.cout, c.cin];
    const x = rng.uniform(new Float32Array(xs.reduce((p, v) => p * v, 1)), 1);
    const w = rng.uniform(new Float32Array(ws.reduce((p, v) => p * v, 1)), 1);
    const bias = rng.uniform(new Float32Array(c.cout), 1);
    const r = rng.uniform(new Float32Array(c.n * out * out * c.cout), 1); // loss = sum(y * r)
    // tfjs, NHWC
    const yRef = tf.tidy(() => {
      const xt = tf.tensor4d(x, xs as never);
      const wt = tf.tensor4d(w, ws as never);
      const y = c.kind === 'conv' ? tf.conv2d(xt, wt, c.s, 'valid') : tf.conv2dTranspose(xt, wt, [c.n, out, out, c.cout], c.s, 'valid');
      return tf.add(y, tf.tensor1d(bias)).dataSync() as Float32Array;
    });
    const [gx, gw, gb] = tf.tidy(() => {
      const f = (xt: Tensor4D, wt: Tensor4D, bt: Tensor4D) => {
        const y = c.kind === 'conv' ? tf.conv2d(xt, wt, c.s, 'valid') : tf.conv2dTranspose(xt, wt, [c.n, out, out, c.cout], c.s, 'valid');
        return tf.sum(tf.mul(tf.add(y, tf.reshape(bt, [c.cout])), tf.tensor4d(r, [c.n, out, out, c.cout])));
      };
      return tf.grads(f as never)([tf.tensor4d(x, xs as never), tf.tensor4d(w, ws as never), tf.tensor4d(bias, [1, 1, 1, c.cout])]).map((t) => t.dataSync() as Float32Array);
    });
    // ONNX, NCHW
    const b = new GraphBuilder();
    const xi = b.input('x', xs, true);
    const wi = b.input('w', [ws[3]!, ws[2]!, c.k, c.k], true);
    const bi = b.input('b', [c.cout], true);
    const xn = b.transpose(xi, [0, 3, 1, 2]);
    const y = 'nhwc' in c ? b.conv1x1Nhwc(xi, wi, bi) : c.kind === 'conv' ? b.conv(xn, wi, bi, c.s) : b.convT(xn, wi, bi, c.s);
    const rr = b.constant(r, [c.n, out, out, c.cout]);
    const yNhwc = b.transpose(y, [0, 2, 3, 1]);
    const loss = b.sum(b.mul(yNhwc, rr));
    const gs = b.gradients(loss, [xi, wi, bi]);
    gs.forEach((g, i) => b.output(g!, `g${i}`));
    b.output(yNhwc, 'y');
    const sess = await createOnnxSessionFromBytes(b.toBytes('rule'), 'rule', { intraOpNumThreads: 1 });
    try {
      const o = await runOnnx(sess, {
        x: { type: 'float32', data: x, dims: xs },
        w: { type: 'float32', data: filterToOnnx(w, c.k, ws[2]!, ws[3]!), dims: [ws[3]!, ws[2]!, c.k, c.k] },
        b: { type: 'float32', data: bias, dims: [c.cout] },
      });
      assert.ok(relDiff(o.y!.data as Float32Array, yRef) < 1e-5, `forward ${relDiff(o.y!.data as Float32Array, yRef)}`);
      assert.ok(relDiff(o.g0!.data as Float32Array, gx!) < 1e-5, `input gradient ${relDiff(o.g0!.data as Float32Array, gx!)}`);
      const gwT = filterFromOnnx(o.g1!.data as Float32Array, c.k, ws[2]!, ws[3]!);
      assert.ok(relDiff(gwT, gw!) < 1e-5, `weight gradient ${relDiff(gwT, gw!)}`);
      assert.ok(relDiff(o.g2!.data as Float32Array, gb!) < 1e-5, `bias gradient ${relDiff(o.g2!.data as Float32Array, gb!)}`);
    } finally {
      await disposeOnnxSession(sess);
    }
  });
}

test('chooseTrainingBackend: onnx on the CPU backends, tfjs elsewhere, LEUKOGRAPH_AE_TRAIN_BACKEND overrides', () => {
  const saved = process.env.LEUKOGRAPH_AE_TRAIN_BACKEND;
  try {
    delete process.env.LEUKOGRAPH_AE_TRAIN_BACKEND;
    assert.equal(chooseTrainingBackend({ backend: 'wasm' }), 'onnx');
    assert.equal(chooseTrainingBackend({ backend: 'webgpu' }), 'tfjs');
    process.env.LEUKOGRAPH_AE_TRAIN_BACKEND = 'tfjs';
    assert.equal(chooseTrainingBackend({ backend: 'wasm' }), 'tfjs');
    process.env.LEUKOGRAPH_AE_TRAIN_BACKEND = 'onnx';
    assert.equal(chooseTrainingBackend({ backend: 'webgpu' }), 'onnx');
    process.env.LEUKOGRAPH_AE_TRAIN_BACKEND = 'bogus';
    assert.throws(() => chooseTrainingBackend({ backend: 'wasm' }), /expected onnx, tfjs or auto/);
  } finally {
    if (saved === undefined) delete process.env.LEUKOGRAPH_AE_TRAIN_BACKEND;
    else process.env.LEUKOGRAPH_AE_TRAIN_BACKEND = saved;
  }
});
