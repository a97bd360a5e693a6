// Quantile binning of features, done once per forest: each feature gets up to 255 cut points and
// every training value becomes a one-byte bin code, so split search counts bins instead of sorting.

import type { FeatureMatrix } from './feature-matrix.js';
import { createRng } from './rng.js';

/** Cut points of all features. Feature f owns edges[offsets[f] .. offsets[f + 1]). */
export interface FeatureBins {
  readonly edges: Float64Array;
  readonly offsets: Int32Array;
}

/** Codes fit in a byte; 255 bins leaves room for at most 254 cut points per feature. */
export const MAX_BINS = 256;

/** Above this many rows the edges come from a seeded subsample (same choice as scikit-learn's histogram trees). */
const BINNING_SUBSAMPLE = 200_000;

/**
 * Cut points at the quantiles of each feature. With fewer distinct values than bins every distinct
 * value gets its own bin; cut points sit half-way between neighbouring values so unseen values near
 * the training ones fall on the right side.
 */
export function fitBins(x: FeatureMatrix, maxBins = 255, seed = 0): FeatureBins {
  if (!Number.isInteger(maxBins) || maxBins < 2 || maxBins > MAX_BINS) {
    throw new Error(`binning: maxBins must be an integer in [2, ${MAX_BINS}], got ${maxBins}`);
  }
  const { data, rows, cols } = x;
  let sampleRows: Int32Array | null = null;
  if (rows > BINNING_SUBSAMPLE) {
    const rng = createRng(seed);
    sampleRows = new Int32Array(BINNING_SUBSAMPLE);
    for (let i = 0; i < BINNING_SUBSAMPLE; i++) sampleRows[i] = rng.nextInt(rows);
  }
  const n = sampleRows ? sampleRows.length : rows;
  const column = new Float64Array(n);
  const distinct = new Float64Array(n);
  const perFeature: Float64Array[] = [];
  let total = 0;
  for (let f = 0; f < cols; f++) {
    if (sampleRows) for (let i = 0; i < n; i++) column[i] = data[sampleRows[i] * cols + f];
    else for (let i = 0; i < n; i++) column[i] = data[i * cols + f];
    column.sort();
    let nd = 0;
    for (let i = 0; i < n; i++) if (nd === 0 || column[i] !== distinct[nd - 1]) distinct[nd++] = column[i];
    const edges = quantileEdges(column, distinct, nd, maxBins);
    perFeature.push(edges);
    total += edges.length;
  }
  const edges = new Float64Array(total);
  const offsets = new Int32Array(cols + 1);
  for (let f = 0; f < cols; f++) {
    edges.set(perFeature[f], offsets[f]);
    offsets[f + 1] = offsets[f] + perFeature[f].length;
  }
  return { edges, offsets };
}

function quantileEdges(sorted: Float64Array, distinct: Float64Array, nd: number, maxBins: number): Float64Array {
  if (nd <= maxBins) {
    const out = new Float64Array(Math.max(0, nd - 1));
    for (let i = 0; i + 1 < nd; i++) out[i] = midpoint(distinct[i], distinct[i + 1]);
    return out;
  }
  const n = sorted.length;
  const out: number[] = [];
  let d = 0; // index in `distinct` of the current quantile value; quantiles only grow
  for (let j = 1; j < maxBins; j++) {
    const v = sorted[Math.ceil((j * n) / maxBins) - 1];
    while (distinct[d] !== v) d++;
    if (d + 1 >= nd) break;
    const edge = midpoint(v, distinct[d + 1]);
    if (out.length === 0 || edge > out[out.length - 1]) out.push(edge);
  }
  return Float64Array.from(out);
}

function midpoint(a: number, b: number): number {
  const m = a + (b - a) / 2;
  return m < b ? m : a; // adjacent floats: keep a on the left
}

/** Bin code of value v for the feature whose cut points are edges[lo .. hi): the first j with v <= edge j. */
export function binValue(edges: Float64Array, lo: number, hi: number, v: number): number {
  let a = lo;
  let b = hi;
  while (a < b) {
    const m = (a + b) >>> 1;
    if (v <= edges[m]) b = m;
    else a = m + 1;
  }
  return a - lo;
}

/** Bin codes of every value, column-major (codes[f * rows + r]) so one feature's codes are contiguous. */
export function binColumns(x: FeatureMatrix, bins: FeatureBins): Uint8Array {
  const { data, rows, cols } = x;
  const codes = new Uint8Array(rows * cols);
  const { edges, offsets } = bins;
  // Blocks of rows, so the row-major reads of one block stay in cache while every feature is binned.
  const block = 64;
  for (let r0 = 0; r0 < rows; r0 += block) {
    const r1 = Math.min(rows, r0 + block);
    for (let f = 0; f < cols; f++) {
      const lo = offsets[f];
      const hi = offsets[f + 1];
      const base = f * rows;
      for (let r = r0; r < r1; r++) codes[base + r] = binValue(edges, lo, hi, data[r * cols + f]);
    }
  }
  return codes;
}
