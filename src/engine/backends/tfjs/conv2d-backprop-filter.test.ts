import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initTfjs, useBackend, type Tensor, type Tensor4D } from '../tfjs.js';

type Pad = 'same' | 'valid';
// [x shape NHWC, filter [KH, KW, Cin, Cout], stride, padding]
const CASES: Array<[[number, number, number, number], [number, number, number, number], number, Pad]> = [
  [[2, 9, 9, 3], [3, 3, 3, 8], 1, 'same'],
  [[2, 9, 9, 3], [3, 3, 3, 8], 2, 'same'],
  [[2, 10, 10, 3], [3, 3, 3, 8], 2, 'valid'],
  [[3, 7, 7, 16], [1, 1, 16, 32], 1, 'valid'],
  [[3, 8, 8, 16], [1, 1, 16, 24], 2, 'same'],
  [[2, 11, 11, 8], [5, 5, 8, 12], 1, 'valid'],
  [[2, 11, 11, 8], [5, 5, 8, 12], 2, 'same'],
  [[2, 12, 12, 24], [5, 5, 24, 16], 2, 'valid'],
  [[2, 14, 14, 64], [3, 3, 64, 48], 1, 'valid'],
  [[2, 12, 12, 64], [3, 3, 64, 64], 2, 'valid'],
  [[1, 13, 13, 32], [2, 2, 32, 64], 1, 'same'],
];

function relErr(a: Float32Array, b: Float32Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i]! - b[i]!) ** 2;
    den += b[i]! ** 2;
  }
  return Math.sqrt(num / Math.max(den, 1e-30));
}

test('wasm runtime registers Conv2DBackpropFilter', async () => {
  const rt = await initTfjs({ prefer: 'wasm', strict: true });
  assert.equal(rt.backend, 'wasm');
  assert.ok(rt.kernelsPatched.includes('Conv2DBackpropFilter'));
  assert.ok(rt.tf.getKernel('Conv2DBackpropFilter', 'wasm'));
});

test('conv2d / conv2dTranspose filter gradients on wasm match the cpu backend', async () => {
  const rt = await initTfjs({ prefer: 'wasm', strict: true });
  const tf = rt.tf;
  const worst: string[] = [];
  try {
    for (const [xs, fs, s, pad] of CASES) {
      const seed = xs[1] * 31 + fs[0] * 7 + s;
      const x = tf.randomUniform(xs, -1, 1, 'float32', seed).dataSync() as Float32Array;
      const w = tf.randomUniform(fs, -1, 1, 'float32', seed + 1).dataSync() as Float32Array;
      const run = (transpose: boolean) => {
        // Forward conv's filter gradient, and conv2dTranspose's (which feeds dy as the kernel's x).
        return tf.tidy(() => {
          const xt = tf.tensor4d(x, xs);
          const wt = tf.tensor4d(w, fs);
          if (!transpose) {
            const y = tf.conv2d(xt, wt, s, pad);
            const dy = tf.sin(tf.range(0, y.size).reshape(y.shape).mul(0.37));
            return (tf.grad((f: Tensor) => tf.conv2d(xt, f as Tensor4D, s, pad).mul(dy).sum())(wt).dataSync() as Float32Array).slice();
          }
          // conv2dTranspose with filter [KH, KW, outC=Cin, inC=Cout] applied to an input shaped like y.
          const y = tf.conv2d(xt, wt, s, pad);
          const inp = tf.cos(tf.range(0, y.size).reshape(y.shape).mul(0.23));
          const dOut = tf.sin(tf.range(0, xt.size).reshape(xs).mul(0.41));
          const f = (filt: Tensor) => tf.conv2dTranspose(inp as Tensor4D, filt as Tensor4D, xs, s, pad).mul(dOut).sum();
          return (tf.grad(f)(wt).dataSync() as Float32Array).slice();
        });
      };
      const wasmConv = run(false);
      const wasmConvT = run(true);
      assert.ok(await useBackend(rt, 'cpu'));
      const cpuConv = run(false);
      const cpuConvT = run(true);
      assert.ok(await useBackend(rt, 'wasm'));
      const e1 = relErr(wasmConv, cpuConv);
      const e2 = relErr(wasmConvT, cpuConvT);
      worst.push(`${xs}|${fs}|s${s}|${pad}: ${e1.toExponential(1)} ${e2.toExponential(1)}`);
      assert.ok(e1 < 1e-3, `conv2d dW ${xs} ${fs} s=${s} ${pad}: relative error ${e1}`);
      assert.ok(e2 < 1e-3, `conv2dTranspose dW ${xs} ${fs} s=${s} ${pad}: relative error ${e2}`);
    }
  } finally {
    await useBackend(rt, 'wasm');
  }
  console.log('Conv2DBackpropFilter relative errors (conv2d dW, conv2dTranspose dW):\n' + worst.join('\n'));
});

test('Conv2DBackpropInput replacement (conv2dTranspose forward, conv2d input gradient) matches the cpu backend', async () => {
  const rt = await initTfjs({ prefer: 'wasm', strict: true });
  const tf = rt.tf;
  assert.ok(rt.kernelsPatched.includes('Conv2DBackpropInput'));
  // [input (dx) shape, filter, stride, pad]: includes the paper's convT shapes (k5 s2, k3 s2, k2, k4 s2).
  const cases: Array<[[number, number, number, number], [number, number, number, number], number, Pad]> = [
    ...CASES,
    [[2, 31, 31, 6], [5, 5, 6, 8], 2, 'valid'], // convT 8->6 k5 s2: 14 -> 31
    [[2, 63, 63, 5], [3, 3, 5, 7], 2, 'valid'], // convT k3 s2: 31 -> 63
    [[2, 12, 12, 9], [4, 4, 9, 5], 2, 'valid'], // convT k4 s2: 5 -> 12
    [[2, 14, 14, 16], [3, 3, 16, 12], 1, 'valid'], // convT k3: 12 -> 14
    [[2, 5, 5, 12], [5, 5, 12, 10], 1, 'valid'], // convT k5: 1 -> 5
    [[2, 16, 16, 8], [3, 3, 8, 4], 3, 'same'],
    [[2, 17, 17, 8], [2, 2, 8, 4], 2, 'same'],
  ];
  const report: string[] = [];
  try {
    for (const [xs, fs, s, pad] of cases) {
      const seed = xs[1] * 17 + fs[0] * 5 + s;
      const w = tf.randomUniform(fs, -1, 1, 'float32', seed).dataSync() as Float32Array;
      const yShape = tf.tidy(() => tf.conv2d(tf.zeros(xs) as Tensor4D, tf.zeros(fs) as Tensor4D, s, pad).shape);
      const dy = tf.randomUniform(yShape, -1, 1, 'float32', seed + 2).dataSync() as Float32Array;
      const run = () =>
        tf.tidy(() => {
          const out = tf.conv2dTranspose(tf.tensor4d(dy, yShape), tf.tensor4d(w, fs), xs, s, pad);
          return (out.dataSync() as Float32Array).slice();
        });
      const a = run();
      assert.ok(await useBackend(rt, 'cpu'));
      const b = run();
      assert.ok(await useBackend(rt, 'wasm'));
      const e = relErr(a, b);
      report.push(`${xs}|${fs}|s${s}|${pad}: ${e.toExponential(1)}`);
      assert.ok(e < 1e-3, `Conv2DBackpropInput ${xs} ${fs} s=${s} ${pad}: relative error ${e}`);
    }
  } finally {
    await useBackend(rt, 'wasm');
  }
  console.log('Conv2DBackpropInput relative errors:\n' + report.join('\n'));
});

test('BatchMatMul wrapper: transposed operands give the same products', async () => {
  const rt = await initTfjs({ prefer: 'wasm', strict: true });
  const tf = rt.tf;
  const [a, b] = [tf.randomNormal([3, 7, 5], 0, 1, 'float32', 1), tf.randomNormal([3, 5, 4], 0, 1, 'float32', 2)];
  const ref = tf.matMul(a, b).dataSync();
  const ta = tf.matMul(tf.transpose(a, [0, 2, 1]), b, true, false).dataSync();
  const tb = tf.matMul(a, tf.transpose(b, [0, 2, 1]), false, true).dataSync();
  const tab = tf.matMul(tf.transpose(a, [0, 2, 1]), tf.transpose(b, [0, 2, 1]), true, true).dataSync();
  for (const other of [ta, tb, tab]) assert.ok(relErr(other as Float32Array, ref as Float32Array) < 1e-6);
  tf.dispose([a, b]);
});

test('the replacement kernels release their intermediates', async () => {
  const rt = await initTfjs({ prefer: 'wasm', strict: true });
  const tf = rt.tf;
  const x = tf.randomNormal([2, 10, 10, 4]) as Tensor4D;
  const w = tf.randomNormal([3, 3, 4, 6]) as Tensor4D;
  const g = () =>
    tf.tidy(() => {
      const [gx, gw] = tf.grads((xx: Tensor, f: Tensor) => tf.conv2d(xx as Tensor4D, f as Tensor4D, 2, 'valid').square().sum())([x, w]);
      return tf.add(tf.sum(gx!), tf.sum(gw!));
    }).dispose();
  g();
  const before = tf.memory();
  for (let i = 0; i < 5; i++) g();
  const after = tf.memory();
  assert.equal(after.numTensors, before.numTensors);
  assert.equal(after.numBytes, before.numBytes);
  const b = tf.backend() as unknown as { numDataIds(): number };
  const ids = b.numDataIds();
  g();
  assert.equal(b.numDataIds(), ids);
  tf.dispose([x, w]);
});
