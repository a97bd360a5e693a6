/**
 * Target preparation (plain TypedArray code, no TensorFlow.js).
 */

/**
 * Per-sample min-max scaling to [-1, 1], as the reference dataloader: f' = 2 (f - min) / (max - min) - 1,
 * min and max over all values of one sample. A constant sample becomes all zeros. Idempotent up to
 * rounding: already-scaled features (min -1, max 1) come back unchanged.
 * @param features n samples of `features.length / n` values each (any layout).
 */
export function scaleFeaturesMinMax(features: Float32Array, n: number, out = new Float32Array(features.length)): Float32Array {
  if (!Number.isInteger(n) || n < 0 || (n > 0 && features.length % n !== 0)) {
    throw new Error(`scaleFeaturesMinMax: ${features.length} values are not ${n} equal samples`);
  }
  if (out.length !== features.length) throw new Error('scaleFeaturesMinMax: output length mismatch');
  const per = n === 0 ? 0 : features.length / n;
  for (let s = 0; s < n; s++) {
    const o = s * per;
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = o; i < o + per; i++) {
      const v = features[i]!;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (!Number.isFinite(lo) || !Number.isFinite(hi)) throw new Error(`scaleFeaturesMinMax: sample ${s} is not finite`);
    const range = hi - lo;
    if (range === 0) {
      out.fill(0, o, o + per);
      continue;
    }
    const a = 2 / range;
    for (let i = o; i < o + per; i++) out[i] = a * (features[i]! - lo) - 1;
  }
  return out;
}

// The crop geometry and resize live in src/imaging (the morphology features use them too).
export { resizeCrop, cropBoxWithMargin, AECFE_CROP_MARGINS, type CropImage } from '../../imaging/crop-geometry.js';
