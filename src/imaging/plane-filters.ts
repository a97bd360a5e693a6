// Filters over one float image plane (row-major, width x height): a separable Gaussian blur and Otsu's
// threshold of float values. Used by the cell morphology features (src/imaging/cell-morphology.ts);
// kept apart from sharp because they run on derived planes (optical density), not on encoded images.

/**
 * A normalised Gaussian window: g[i] ~ exp(-(i - floor(window/2))^2 / (2 sigma^2)), summing to 1 (the reference
 * SSIM's window, and gaussianBlur's kernel).
 */
export function gaussianWindow(window: number, sigma: number): Float64Array {
  const g = new Float64Array(window);
  let sum = 0;
  for (let i = 0; i < window; i++) {
    g[i] = Math.exp(-((i - Math.floor(window / 2)) ** 2) / (2 * sigma * sigma));
    sum += g[i]!;
  }
  for (let i = 0; i < window; i++) g[i]! /= sum;
  return g;
}

/**
 * Gaussian blur with standard deviation `sigma` (pixels), kernel radius ceil(4 sigma), edges replicated
 * (scikit-image's `gaussian(..., mode='nearest', truncate=4)`).
 */
export function gaussianBlur(src: Float64Array, width: number, height: number, sigma: number): Float64Array {
  if (src.length !== width * height) throw new Error(`gaussianBlur: ${src.length} values for ${width}x${height}`);
  if (!(sigma > 0)) return Float64Array.from(src);
  const r = Math.ceil(4 * sigma);
  const k = gaussianWindow(2 * r + 1, sigma);
  const tmp = new Float64Array(src.length);
  const out = new Float64Array(src.length);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      let s = 0;
      for (let i = -r; i <= r; i++) s += k[i + r]! * src[row + Math.min(width - 1, Math.max(0, x + i))]!;
      tmp[row + x] = s;
    }
  }
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let s = 0;
      for (let i = -r; i <= r; i++) s += k[i + r]! * tmp[Math.min(height - 1, Math.max(0, y + i)) * width + x]!;
      out[y * width + x] = s;
    }
  }
  return out;
}

/**
 * Otsu's threshold of float values (those with mask[i] set, or all): a 256-bin histogram over [min, max],
 * the level maximising the between-class variance, returned as the centre of its bin (scikit-image's
 * `threshold_otsu`). Values above the result form the upper class. NaN when there are no values.
 */
export function otsuFloat(values: Float64Array, mask?: Uint8Array): number {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    if (mask && !mask[i]) continue;
    const v = values[i]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (lo > hi) return NaN;
  if (lo === hi) return lo;
  const bins = 256;
  const hist = new Float64Array(bins);
  const scale = bins / (hi - lo);
  for (let i = 0; i < values.length; i++) {
    if (mask && !mask[i]) continue;
    hist[Math.min(bins - 1, Math.floor((values[i]! - lo) * scale))]!++;
  }
  const best = otsuThreshold(hist);
  // Upper edge of the best bin: values in bins <= best are the lower class.
  return lo + (best + 1) / scale;
}

/** Otsu's threshold of a 256-bin histogram: the level that maximises the between-class variance. */
export function otsuThreshold(hist: ArrayLike<number>): number {
  let total = 0;
  let sum = 0;
  for (let i = 0; i < 256; i++) {
    total += hist[i]!;
    sum += i * hist[i]!;
  }
  let wB = 0;
  let sumB = 0;
  let best = 0;
  let bestVar = -1;
  for (let t = 0; t < 256; t++) {
    wB += hist[t]!;
    if (wB === 0) continue;
    const wF = total - wB;
    if (wF === 0) break;
    sumB += t * hist[t]!;
    const mB = sumB / wB;
    const mF = (sum - sumB) / wF;
    const v = wB * wF * (mB - mF) * (mB - mF);
    if (v > bestVar) {
      bestVar = v;
      best = t;
    }
  }
  return best;
}

/** The q-th percentile (0..100) of the values, with linear interpolation between order statistics. */
export function percentile(values: ArrayLike<number>, q: number): number {
  const n = values.length;
  if (n === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  const pos = (q / 100) * (n - 1);
  const i = Math.floor(pos);
  const f = pos - i;
  // On an order statistic, no interpolation: an infinite neighbour would otherwise turn it into NaN (inf * 0).
  return i + 1 < n && f > 0 ? sorted[i]! * (1 - f) + sorted[i + 1]! * f : sorted[i]!;
}
