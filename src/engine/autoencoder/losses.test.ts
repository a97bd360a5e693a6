import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initTfjs, type Tensor1D, type Tensor2D, type Tensor4D } from '../backends/tfjs.js';
import { alignmentBetween } from './model.js';
import { alignment, blurMatrixT, gaussianWindow, groupNorm, ssim } from './losses.js';
import { Rng } from './rng.js';

const rt = await initTfjs({ prefer: 'wasm' });
const tf = rt.tf;

function close(a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(a.length, b.length, `${what}: length`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  assert.ok(worst <= tol, `${what}: max abs difference ${worst} > ${tol}`);
}

/** GroupNorm as the reference PyTorch module: NCHW view(N, G, -1), unbiased var, per-channel affine. */
function groupNormRef(x: Float32Array, [n, h, w, c]: number[], g: number, gamma: Float32Array, beta: Float32Array): Float32Array {
  const out = new Float32Array(x.length);
  const m = (c * h * w) / g;
  for (let s = 0; s < n; s++) {
    const flat = new Float64Array(c * h * w); // NCHW order
    for (let ch = 0; ch < c; ch++) for (let i = 0; i < h * w; i++) flat[ch * h * w + i] = x[(s * h * w + i) * c + ch]!;
    for (let k = 0; k < g; k++) {
      let mean = 0;
      for (let i = 0; i < m; i++) mean += flat[k * m + i]!;
      mean /= m;
      let v = 0;
      for (let i = 0; i < m; i++) v += (flat[k * m + i]! - mean) ** 2;
      v /= m - 1;
      for (let i = 0; i < m; i++) flat[k * m + i] = (flat[k * m + i]! - mean) / Math.sqrt(v + 1e-5);
    }
    for (let ch = 0; ch < c; ch++)
      for (let i = 0; i < h * w; i++) out[(s * h * w + i) * c + ch] = flat[ch * h * w + i]! * gamma[ch]! + beta[ch]!;
  }
  return out;
}

test('GroupNorm matches the reference module (channel-aligned groups and straddling groups)', () => {
  const rng = new Rng(3);
  // [shape, groups]: 200 channels in 32 groups straddles channels, like the paper's first GroupNorm.
  const cases: Array<[[number, number, number, number], number]> = [
    [[2, 12, 12, 200], 32],
    [[2, 5, 5, 150], 30],
    [[3, 1, 1, 60], 20],
    [[2, 4, 4, 10], 4], // 10 channels, 4 groups of 40 values: straddles
  ];
  for (const [shape, g] of cases) {
    const size = shape.reduce((a, b) => a * b, 1);
    const x = rng.uniform(new Float32Array(size), 2);
    const gamma = rng.uniform(new Float32Array(shape[3]), 1);
    const beta = rng.uniform(new Float32Array(shape[3]), 1);
    const got = tf.tidy(() =>
      groupNorm(tf, tf.tensor4d(x, shape), g, tf.tensor1d(gamma) as Tensor1D, tf.tensor1d(beta) as Tensor1D, 1e-5, true).dataSync(),
    );
    close(got, groupNormRef(x, shape, g, gamma, beta), 2e-4, `GroupNorm ${shape} / ${g}`);
  }
});

/** The reference SSIM (pytorch-ssim, window 10, sigma 1.5, zero padding 5), directly, on NHWC images. */
function ssimRef(a: Float32Array, b: Float32Array, n: number, s: number): number {
  const win = 10;
  const pad = 5;
  const g = gaussianWindow(win, 1.5);
  const so = s + 2 * pad - win + 1;
  let total = 0;
  let count = 0;
  for (let k = 0; k < n; k++) {
    for (let c = 0; c < 3; c++) {
      const px = (img: Float32Array, y: number, x: number) =>
        y < 0 || x < 0 || y >= s || x >= s ? 0 : img[((k * s + y) * s + x) * 3 + c]!;
      for (let oy = 0; oy < so; oy++) {
        for (let ox = 0; ox < so; ox++) {
          let m1 = 0, m2 = 0, e11 = 0, e22 = 0, e12 = 0;
          for (let i = 0; i < win; i++) {
            for (let j = 0; j < win; j++) {
              const wgt = g[i]! * g[j]!;
              const u = px(a, oy + i - pad, ox + j - pad);
              const v = px(b, oy + i - pad, ox + j - pad);
              m1 += wgt * u;
              m2 += wgt * v;
              e11 += wgt * u * u;
              e22 += wgt * v * v;
              e12 += wgt * u * v;
            }
          }
          const c1 = 0.01 ** 2;
          const c2 = 0.03 ** 2;
          const map = ((2 * m1 * m2 + c1) * (2 * (e12 - m1 * m2) + c2)) / ((m1 * m1 + m2 * m2 + c1) * (e11 - m1 * m1 + e22 - m2 * m2 + c2));
          total += map;
          count++;
        }
      }
    }
  }
  return total / count;
}

test('SSIM (banded-matrix blur) matches a direct reference implementation; identical images give 1', () => {
  const rng = new Rng(5);
  const n = 2;
  const s = 16;
  const a = rng.uniform(new Float32Array(n * s * s * 3), 0.5).map((v) => v + 0.5);
  const b = a.map((v, i) => Math.min(1, Math.max(0, v + 0.2 * Math.sin(i * 0.7))));
  const blur = blurMatrixT(s, 10, 1.5, 5);
  assert.equal(blur.outSize, s + 1);
  const [got, same] = tf.tidy(() => {
    const bt = tf.tensor2d(blur.data, [s, blur.outSize]) as Tensor2D;
    const ta = tf.tensor4d(a, [n, s, s, 3]) as Tensor4D;
    const tb = tf.tensor4d(b, [n, s, s, 3]) as Tensor4D;
    return [ssim(tf, ta, tb, bt, 0.01 ** 2, 0.03 ** 2).dataSync()[0]!, ssim(tf, ta, ta, bt, 0.01 ** 2, 0.03 ** 2).dataSync()[0]!];
  });
  const ref = ssimRef(a, b, n, s);
  assert.ok(Math.abs(got - ref) < 1e-4, `ssim ${got} vs reference ${ref}`);
  assert.ok(Math.abs(same - 1) < 1e-5, `ssim(a, a) = ${same}`);
  assert.ok(got < 0.99);
});

function latents(n: number, seed: number, scale = 1, shift = 0): Float32Array {
  const rng = new Rng(seed);
  const z = new Float32Array(n * 50);
  // Correlated columns: z = u A, with a fixed A.
  const a = new Rng(99).uniform(new Float32Array(8 * 50), 0.3);
  for (let i = 0; i < n; i++) {
    const u = rng.uniform(new Float32Array(8), 1);
    for (let d = 0; d < 50; d++) {
      let v = 0;
      for (let k = 0; k < 8; k++) v += u[k]! * a[k * 50 + d]!;
      z[i * 50 + d] = v * scale + shift;
    }
  }
  return z;
}

test('alignment term: ~0 for identical batches, grows with a mean shift and with a covariance change', async () => {
  const zs = latents(32, 1);
  const same = await alignmentBetween(rt, zs, zs);
  assert.ok(Math.abs(same.total) < 1e-7, `identical batches: ${JSON.stringify(same)}`);

  const shifts = [0.05, 0.1, 0.2, 0.4];
  const byShift = [];
  for (const d of shifts) byShift.push(await alignmentBetween(rt, zs, zs.map((v) => v + d)));
  for (let i = 0; i < shifts.length; i++) {
    // A pure shift leaves the covariance alone: the mean term is exactly d^2 (mean over the 50 dims).
    assert.ok(Math.abs(byShift[i]!.mean - shifts[i]! ** 2) < 1e-5, `shift ${shifts[i]}: ${JSON.stringify(byShift[i])}`);
    assert.ok(Math.abs(byShift[i]!.cov) < 1e-7);
    if (i > 0) assert.ok(byShift[i]!.total > byShift[i - 1]!.total);
  }

  const scales = [1.5, 2, 3];
  let prev = 0;
  for (const k of scales) {
    const centred = zs.slice();
    for (let d = 0; d < 50; d++) {
      let m = 0;
      for (let i = 0; i < 32; i++) m += zs[i * 50 + d]!;
      m /= 32;
      for (let i = 0; i < 32; i++) centred[i * 50 + d] = zs[i * 50 + d]! - m;
    }
    const r = await alignmentBetween(rt, centred, centred.map((v) => v * k));
    assert.ok(Math.abs(r.mean) < 1e-9, 'no mean shift');
    assert.ok(r.cov > prev, `scale ${k}: cov term ${r.cov} should exceed ${prev}`);
    prev = r.cov;
  }
  // Different samples of the same distribution align better than a shifted one.
  const other = await alignmentBetween(rt, zs, latents(32, 2));
  const shifted = await alignmentBetween(rt, zs, latents(32, 2, 1, 0.3));
  assert.ok(other.total < shifted.total);
});

test('alignment term, standardised: shrinking both batches no longer lowers it; raw, it does', () => {
  const rng = new Rng(5);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
  const zs = Float32Array.from({ length: 64 * 8 }, () => normal());
  const zt = Float32Array.from({ length: 64 * 8 }, (_, i) => normal() * (i % 8 === 0 ? 2 : 1) + 0.7);
  const value = (scale: 'raw' | 'standardised', k: number) =>
    tf.tidy(() => {
      const a = tf.mul(tf.tensor2d(zs, [64, 8]), k) as Tensor2D;
      const b = tf.mul(tf.tensor2d(zt, [64, 8]), k) as Tensor2D;
      return alignment(tf, a, b, scale).total.dataSync()[0]!;
    });
  const raw1 = value('raw', 1);
  const raw01 = value('raw', 0.1);
  assert.ok(raw01 < raw1 / 20, `raw: ${raw01} vs ${raw1}`);
  const std1 = value('standardised', 1);
  const std01 = value('standardised', 0.1);
  assert.ok(std1 > 0.05, String(std1));
  assert.ok(Math.abs(std01 - std1) < 0.02 * std1 + 1e-5, `standardised: ${std01} vs ${std1}`);
  // identical batches still give ~0
  const same = tf.tidy(() => alignment(tf, tf.tensor2d(zs, [64, 8]), tf.tensor2d(zs, [64, 8]), 'standardised').total.dataSync()[0]!);
  assert.ok(Math.abs(same) < 1e-6, String(same));
});
