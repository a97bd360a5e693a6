/**
 * GroupNorm, SSIM and the cross-domain alignment term, as TensorFlow.js ops (differentiable with the
 * kernels every backend has, plus our Conv2DBackpropFilter on wasm). Callers run these inside tf.tidy.
 */
import type { Scalar, Tensor1D, Tensor2D, Tensor4D, Tf } from '../backends/tfjs.js';
import { gaussianWindow } from '../../imaging/plane-filters.js';

export { gaussianWindow };

/**
 * GroupNorm over an NHWC tensor, as the reference implementation: per sample, the C*H*W values are split
 * into `groups` groups of the channel-major (NCHW) flattening; each group is normalised by its mean and
 * variance ((x - mean) / sqrt(var + eps), var with Bessel's correction when `unbiased`), then a per-channel
 * affine gamma * x + beta. When groups divides C this is the usual channel-group GroupNorm (computed
 * without a transpose); otherwise groups may straddle channels, exactly like the reference's
 * `x.view(N, G, -1)`.
 */
export function groupNorm(
  tf: Tf,
  x: Tensor4D,
  groups: number,
  gamma: Tensor1D,
  beta: Tensor1D,
  eps: number,
  unbiased: boolean,
): Tensor4D {
  const [n, h, w, c] = x.shape;
  const m = (c * h * w) / groups;
  const denom = unbiased ? m - 1 : m;
  let normed: Tensor4D;
  if (c % groups === 0) {
    const r = tf.reshape(x, [n, h * w, groups, c / groups]);
    const mean = tf.mean(r, [1, 3], true);
    const d = tf.sub(r, mean);
    const v = tf.div(tf.sum(tf.square(d), [1, 3], true), denom);
    normed = tf.reshape(tf.mul(d, tf.rsqrt(tf.add(v, eps))), [n, h, w, c]);
  } else {
    const r = tf.reshape(tf.transpose(x, [0, 3, 1, 2]), [n, groups, m]);
    const mean = tf.mean(r, 2, true);
    const d = tf.sub(r, mean);
    const v = tf.div(tf.sum(tf.square(d), 2, true), denom);
    normed = tf.transpose(tf.reshape(tf.mul(d, tf.rsqrt(tf.add(v, eps))), [n, c, h, w]), [0, 2, 3, 1]);
  }
  return tf.add(tf.mul(normed, gamma), beta);
}

/**
 * The reference SSIM's blur (a cross-correlation with a `window`-tap Gaussian and `padding` zeros on each
 * side) along one axis, as a matrix: out = B x, B[o, i] = g[i - o + padding]. Returned transposed,
 * [size, outSize], for `x_rows @ B^T`. outSize = size + 2 padding - window + 1.
 */
export function blurMatrixT(size: number, window: number, sigma: number, padding: number): { data: Float32Array; outSize: number } {
  const g = gaussianWindow(window, sigma);
  const outSize = size + 2 * padding - window + 1;
  const data = new Float32Array(size * outSize);
  for (let o = 0; o < outSize; o++) {
    for (let i = 0; i < size; i++) {
      const j = i - o + padding;
      if (j >= 0 && j < window) data[i * outSize + o] = g[j]!;
    }
  }
  return { data, outSize };
}

/**
 * Mean SSIM between two NHWC image batches in [0, 1], as the reference (pytorch-ssim style): separable
 * Gaussian window with zero padding, C1 = 0.01^2, C2 = 0.03^2, the map averaged over every pixel,
 * channel and sample. The separable blur runs as two matrix products with the banded matrix `blurT`
 * ([size, outSize], from blurMatrixT).
 */
export function ssim(tf: Tf, a: Tensor4D, b: Tensor4D, blurT: Tensor2D, c1: number, c2: number): Scalar {
  const [n, s, s2, ch] = a.shape;
  if (s !== s2) throw new Error('ssim: square images expected');
  const [size, so] = blurT.shape;
  if (size !== s) throw new Error(`ssim: blur matrix for ${size}, images of ${s}`);
  const planes = n * ch;
  const toPlanes = (t: Tensor4D) => tf.reshape(tf.transpose(t, [0, 3, 1, 2]), [planes * s, s]) as Tensor2D;
  // Blur along the last axis, swap the two spatial axes, blur again: the result is transposed spatially,
  // which the pixel-wise SSIM map and its mean do not mind. Each statistic separately (a concat + split
  // of the five costs more than the extra matmul calls on wasm).
  const blur = (rows: Tensor2D) => {
    const bw = tf.matMul(rows, blurT); // [P*S, So]
    const sw = tf.transpose(tf.reshape(bw, [planes, s, so]), [0, 2, 1]); // [P, So, S]
    return tf.matMul(tf.reshape(sw, [planes * so, s]), blurT); // [P*So, So]
  };
  const pa = toPlanes(a);
  const pb = toPlanes(b);
  const mu1 = blur(pa);
  const mu2 = blur(pb);
  const e11 = blur(tf.square(pa));
  const e22 = blur(tf.square(pb));
  const e12 = blur(tf.mul(pa, pb) as Tensor2D);
  const mu1mu2 = tf.mul(mu1, mu2);
  const mu1sq = tf.square(mu1);
  const mu2sq = tf.square(mu2);
  const s11 = tf.sub(e11, mu1sq);
  const s22 = tf.sub(e22, mu2sq);
  const s12 = tf.sub(e12, mu1mu2);
  const num = tf.mul(tf.add(tf.mul(mu1mu2, 2), c1), tf.add(tf.mul(s12, 2), c2));
  const den = tf.mul(tf.add(tf.add(mu1sq, mu2sq), c1), tf.add(tf.add(s11, s22), c2));
  return tf.mean(tf.div(num, den)) as Scalar;
}

/** Unbiased covariance of the columns of z [B, D] (torch.cov(z.T)): [D, D]. */
export function covariance(tf: Tf, z: Tensor2D): Tensor2D {
  const b = z.shape[0];
  const d = tf.sub(z, tf.mean(z, 0, true));
  return tf.div(tf.matMul(d, d, true, false), b - 1) as Tensor2D;
}

export interface AlignmentTerms {
  /** mean term + covariance term. */
  total: Scalar;
  /** Mean over the D latent dimensions of (mean(zs) - mean(zt))^2 (torch MSELoss of the two batch means). */
  mean: Scalar;
  /** Symmetric KL between the softmax-normalised covariance matrices (see alignment()). */
  cov: Scalar;
}

/**
 * The AE-CFE alignment term between a source batch and one other domain's batch (the reference code's
 * `mmd`): MSE(mean(zs), mean(zt)) + 0.5 [KL(P_t || P_s) + KL(P_s || P_t)], where P = softmax of the
 * unbiased covariance matrix normalised over one axis (the reference: dim 0, column-wise; covariance
 * matrices are symmetric, so this equals the row-wise softmax used here) and each KL is torch's
 * KLDivLoss with reduction 'mean', i.e. sum p (log p - log q) / D^2 (averaged over all D*D entries).
 * Both batches need at least 2 rows.
 *
 * `scale` 'standardised' first divides both batches by the standard deviation of each latent dimension over
 * the two together (+1e-8 under the root): the term then cannot be met by shrinking the latents, which the
 * paper's raw form rewards (docs/results.md: latent spread 0.06 with alignment, 0.30 without).
 */
export type AlignScale = 'raw' | 'standardised';
export const ALIGN_SCALES: readonly AlignScale[] = ['raw', 'standardised'];

export function alignment(tf: Tf, zsIn: Tensor2D, ztIn: Tensor2D, scale: AlignScale = 'raw'): AlignmentTerms {
  if (zsIn.shape[0] < 2 || ztIn.shape[0] < 2) throw new Error('alignment: each batch needs at least 2 samples');
  let zs = zsIn;
  let zt = ztIn;
  if (scale === 'standardised') {
    const both = tf.concat([zsIn, ztIn], 0);
    // A tiny floor only: with 1e-4 the latents collapsed to a spread of 6e-4, below which the floor, not the
    // spread, sets the scale and shrinking pays again (measured; 1e-8 leaves no such room above float noise).
    const sd = tf.sqrt(tf.add(tf.moments(both, 0).variance, 1e-8));
    zs = tf.div(zsIn, sd) as Tensor2D;
    zt = tf.div(ztIn, sd) as Tensor2D;
  }
  const mean = tf.mean(tf.square(tf.sub(tf.mean(zs, 0), tf.mean(zt, 0)))) as Scalar;
  const ls = tf.logSoftmax(covariance(tf, zs));
  const lt = tf.logSoftmax(covariance(tf, zt));
  // 0.5 [mean(pt (lt - ls)) + mean(ps (ls - lt))] = 0.5 mean((pt - ps)(lt - ls))
  const cov = tf.mul(tf.mean(tf.mul(tf.sub(tf.exp(lt), tf.exp(ls)), tf.sub(lt, ls))), 0.5) as Scalar;
  return { total: tf.add(mean, cov) as Scalar, mean, cov };
}

