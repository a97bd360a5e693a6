// Feature extractors of the evaluation's baselines (issue 5): the detector's instance features pooled
// without the autoencoder, and a colour/shape description of the cell crop (the "colour histograms +
// dark-region shape" forest of findings.md). Plain typed-array code: no model, no randomness.
import { FEATURE_CHANNELS, FEATURE_SIZE, FEATURE_LENGTH } from '../engine/autoencoder/layout.js';
import { otsuThreshold } from '../imaging/plane-filters.js';

export { otsuThreshold };

/** Length of pooledFeatures(): mean and standard deviation of each of the 256 channels. */
export const POOLED_LENGTH = 2 * FEATURE_CHANNELS;

/**
 * Global average (and standard-deviation) pooling of one cell's 256x14x14 CHW instance features over
 * the 14x14 grid: 256 means, then 256 standard deviations. Written into `out` at `offset`.
 */
export function pooledFeatures(chw: Float32Array, out: Float64Array | Float32Array = new Float64Array(POOLED_LENGTH), offset = 0): Float64Array | Float32Array {
  if (chw.length !== FEATURE_LENGTH) throw new Error(`pooledFeatures: ${chw.length} values, expected ${FEATURE_LENGTH} (256x14x14 CHW)`);
  const hw = FEATURE_SIZE * FEATURE_SIZE;
  for (let c = 0; c < FEATURE_CHANNELS; c++) {
    let s = 0;
    let s2 = 0;
    const o = c * hw;
    for (let p = 0; p < hw; p++) {
      const v = chw[o + p]!;
      s += v;
      s2 += v * v;
    }
    const mean = s / hw;
    out[offset + c] = mean;
    out[offset + FEATURE_CHANNELS + c] = Math.sqrt(Math.max(0, s2 / hw - mean * mean));
  }
  return out;
}

const RGB_BINS = 8;
const HUE_BINS = 12;
const SAT_BINS = 8;
const SHAPE_FEATURES = 14;

/** Length of colourShapeFeatures(). */
export const COLOUR_SHAPE_LENGTH = 3 * RGB_BINS + HUE_BINS + SAT_BINS + SHAPE_FEATURES;

/**
 * Colour and shape of a cell crop (size x size RGB, uint8, row-major): normalised RGB histograms (8 bins a
 * channel), hue (12) and saturation (8) histograms, and the dark (stained, nucleus-like) region: pixels
 * whose green value is at most Otsu's threshold of the green channel (the nucleus absorbs green most in
 * May-Grünwald-Giemsa and Wright stains). Shape features: area fraction, centroid offset from the centre,
 * spread and elongation (second moments), boundary length / sqrt(area), bounding-box fill, the mean RGB
 * inside and outside the region, and the threshold itself.
 */
export function colourShapeFeatures(rgb: Uint8Array, size: number, out: Float64Array | Float32Array = new Float64Array(COLOUR_SHAPE_LENGTH), offset = 0): Float64Array | Float32Array {
  const n = size * size;
  if (rgb.length !== n * 3) throw new Error(`colourShapeFeatures: ${rgb.length} values for a ${size}x${size} RGB crop`);
  out.fill(0, offset, offset + COLOUR_SHAPE_LENGTH);
  const green = new Float64Array(256);
  let o = offset;
  for (let i = 0; i < n; i++) {
    const r = rgb[3 * i]!;
    const g = rgb[3 * i + 1]!;
    const b = rgb[3 * i + 2]!;
    out[o + (r >> 5)]! += 1;
    out[o + RGB_BINS + (g >> 5)]! += 1;
    out[o + 2 * RGB_BINS + (b >> 5)]! += 1;
    green[g]!++;
    const max = Math.max(r, g, b);
    const min = Math.min(r, g, b);
    const d = max - min;
    const sat = max === 0 ? 0 : d / max;
    let hue = 0;
    if (d > 0) {
      if (max === r) hue = ((g - b) / d + 6) % 6;
      else if (max === g) hue = (b - r) / d + 2;
      else hue = (r - g) / d + 4;
    }
    out[o + 3 * RGB_BINS + Math.min(HUE_BINS - 1, Math.floor((hue / 6) * HUE_BINS))]! += 1;
    out[o + 3 * RGB_BINS + HUE_BINS + Math.min(SAT_BINS - 1, Math.floor(sat * SAT_BINS))]! += 1;
  }
  for (let k = 0; k < 3 * RGB_BINS + HUE_BINS + SAT_BINS; k++) out[o + k]! /= n;
  o += 3 * RGB_BINS + HUE_BINS + SAT_BINS;

  const t = otsuThreshold(green);
  let area = 0;
  let sx = 0;
  let sy = 0;
  let sxx = 0;
  let syy = 0;
  let sxy = 0;
  let boundary = 0;
  let x0 = size;
  let y0 = size;
  let x1 = -1;
  let y1 = -1;
  const inside = [0, 0, 0];
  const outside = [0, 0, 0];
  const dark = (x: number, y: number) => x >= 0 && y >= 0 && x < size && y < size && rgb[3 * (y * size + x) + 1]! <= t;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = y * size + x;
      const acc = rgb[3 * i + 1]! <= t ? inside : outside;
      acc[0] += rgb[3 * i]!;
      acc[1] += rgb[3 * i + 1]!;
      acc[2] += rgb[3 * i + 2]!;
      if (acc !== inside) continue;
      area++;
      sx += x;
      sy += y;
      sxx += x * x;
      syy += y * y;
      sxy += x * y;
      if (!dark(x - 1, y) || !dark(x + 1, y) || !dark(x, y - 1) || !dark(x, y + 1)) boundary++;
      if (x < x0) x0 = x;
      if (y < y0) y0 = y;
      if (x > x1) x1 = x;
      if (y > y1) y1 = y;
    }
  }
  const frac = area / n;
  let offsetFromCentre = 0;
  let spread = 0;
  let elongation = 0;
  let compactness = 0;
  let fill = 0;
  if (area > 0) {
    const cx = sx / area;
    const cy = sy / area;
    const c = (size - 1) / 2;
    offsetFromCentre = Math.hypot(cx - c, cy - c) / size;
    const vxx = sxx / area - cx * cx;
    const vyy = syy / area - cy * cy;
    const vxy = sxy / area - cx * cy;
    const tr = vxx + vyy;
    const det = vxx * vyy - vxy * vxy;
    const disc = Math.sqrt(Math.max(0, (tr * tr) / 4 - det));
    const l1 = tr / 2 + disc;
    const l2 = Math.max(0, tr / 2 - disc);
    spread = Math.sqrt(Math.max(0, tr)) / size;
    elongation = l1 > 0 ? 1 - Math.sqrt(l2 / l1) : 0;
    compactness = boundary / Math.sqrt(area);
    fill = area / ((x1 - x0 + 1) * (y1 - y0 + 1));
  }
  const shape = [
    frac, offsetFromCentre, spread, elongation, compactness, fill,
    area > 0 ? inside[0]! / area / 255 : 0, area > 0 ? inside[1]! / area / 255 : 0, area > 0 ? inside[2]! / area / 255 : 0,
    area < n ? outside[0]! / (n - area) / 255 : 0, area < n ? outside[1]! / (n - area) / 255 : 0, area < n ? outside[2]! / (n - area) / 255 : 0,
    t / 255,
    area > 0 ? boundary / area : 0,
  ];
  for (let k = 0; k < SHAPE_FEATURES; k++) out[o + k] = shape[k]!;
  return out;
}
