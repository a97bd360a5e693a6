// Out-of-distribution score for latents: Mahalanobis distance to the nearest class centroid under a
// shrunk pooled within-class covariance, relative to a per-class threshold (the 99th percentile of
// that class's training distances). A score above 1 means "unlike the training data".

import { assertFeatureMatrix, assertLabels, type FeatureMatrix } from './feature-matrix.js';
import { createRng } from './rng.js';
import { decodeTypedArray, encodeTypedArray } from './typed-array-base64.js';
import { percentile } from '../../imaging/plane-filters.js';

export interface NoveltyOptions {
  /** Quantile of a class's own training distances used as its threshold. Default 0.99. */
  readonly quantile?: number;
  /** Weight of the scaled identity mixed into the covariance; keeps it invertible when d is near n. Default 0.1. */
  readonly shrinkage?: number;
  /** Classes with fewer training rows use the quantile over all rows instead of their own. Default 20. */
  readonly minClassSamples?: number;
  /** Rows used for the covariance and thresholds (a seeded subsample beyond it); bounds the d^2 work. Default 20000. */
  readonly maxSamples?: number;
  readonly numClasses?: number;
  readonly seed?: number;
}

export interface NoveltyModel {
  readonly numFeatures: number;
  readonly numClasses: number;
  readonly quantile: number;
  readonly shrinkage: number;
  /** Lower-triangular Cholesky factor L of the covariance, row-major d x d. */
  readonly cholesky: Float64Array;
  /** L^-1 times each class centroid, row-major K x d (zeros for a class absent from training). */
  readonly whitenedCentroids: Float64Array;
  /** Distance threshold per class; NaN for a class absent from training, which is never nearest. */
  readonly thresholds: Float64Array;
}

export interface NoveltyScores {
  /** Distance to the nearest class divided by that class's threshold: > 1 is novel. */
  readonly score: Float64Array;
  /** Mahalanobis distance to the nearest class centroid. */
  readonly distance: Float64Array;
  readonly nearestClass: Int32Array;
  readonly novel: Uint8Array;
}

/** Fits the scorer on training latents `x` with class indices `y` (all zeros when unlabelled). */
export function fitNovelty(x: FeatureMatrix, y?: ArrayLike<number>, options: NoveltyOptions = {}): NoveltyModel {
  assertFeatureMatrix(x, 'novelty fit');
  const labels = y ?? new Int32Array(x.rows);
  let maxLabel = -1;
  for (let i = 0; i < labels.length; i++) if (labels[i] > maxLabel) maxLabel = labels[i];
  const k = options.numClasses ?? Math.max(1, maxLabel + 1);
  if (!Number.isInteger(k) || k < 1) throw new Error(`novelty fit: numClasses must be a positive integer, got ${k}`);
  assertLabels(labels, x.rows, k, 'novelty fit');
  const quantile = options.quantile ?? 0.99;
  const shrinkage = options.shrinkage ?? 0.1;
  const minClassSamples = options.minClassSamples ?? 20;
  const maxSamples = options.maxSamples ?? 20_000;
  if (!(quantile > 0 && quantile <= 1)) throw new Error(`novelty fit: quantile must be in (0, 1], got ${quantile}`);
  if (!(shrinkage >= 0 && shrinkage <= 1)) throw new Error(`novelty fit: shrinkage must be in [0, 1], got ${shrinkage}`);

  const { data, rows, cols: d } = x;
  const counts = new Float64Array(k);
  const centroids = new Float64Array(k * d);
  for (let r = 0; r < rows; r++) {
    const c = labels[r];
    counts[c]++;
    for (let j = 0; j < d; j++) centroids[c * d + j] += data[r * d + j];
  }
  for (let c = 0; c < k; c++) if (counts[c] > 0) for (let j = 0; j < d; j++) centroids[c * d + j] /= counts[c];

  const rowsUsed = sampleRows(rows, maxSamples, options.seed ?? 0);
  const cov = new Float64Array(d * d);
  const diff = new Float64Array(d);
  for (const r of rowsUsed) {
    const c = labels[r];
    for (let j = 0; j < d; j++) diff[j] = data[r * d + j] - centroids[c * d + j];
    for (let a = 0; a < d; a++) {
      const da = diff[a];
      const rowA = a * d;
      for (let b = 0; b <= a; b++) cov[rowA + b] += da * diff[b];
    }
  }
  const dof = Math.max(1, rowsUsed.length - k);
  let trace = 0;
  for (let a = 0; a < d; a++) trace += cov[a * d + a] / dof;
  for (let a = 0; a < d; a++) {
    for (let b = 0; b <= a; b++) cov[a * d + b] = trace > 0 ? (1 - shrinkage) * (cov[a * d + b] / dof) : 0;
    // No spread at all (every row on its centroid): fall back to Euclidean distance.
    cov[a * d + a] += trace > 0 ? (shrinkage * trace) / d : 1;
  }
  const cholesky = choleskyLower(cov, d);

  const whitenedCentroids = new Float64Array(k * d);
  for (let c = 0; c < k; c++) {
    if (counts[c] > 0) forwardSubstitute(cholesky, d, centroids.subarray(c * d, (c + 1) * d), whitenedCentroids.subarray(c * d, (c + 1) * d));
  }

  // Thresholds from each sampled row's distance to its own class centroid.
  const u = new Float64Array(d);
  const perClass: number[][] = Array.from({ length: k }, () => []);
  const all: number[] = [];
  for (const r of rowsUsed) {
    const c = labels[r];
    forwardSubstitute(cholesky, d, data.subarray(r * d, (r + 1) * d), u);
    const dist = Math.sqrt(squaredDistance(u, whitenedCentroids, c * d, d));
    perClass[c].push(dist);
    all.push(dist);
  }
  const globalThreshold = percentile(all, 100 * quantile);
  const thresholds = new Float64Array(k);
  for (let c = 0; c < k; c++) {
    if (counts[c] === 0) thresholds[c] = NaN;
    else thresholds[c] = perClass[c].length >= minClassSamples ? percentile(perClass[c], 100 * quantile) : globalThreshold;
    // A zero threshold (all rows on the centroid) would make every other point infinitely novel.
    if (thresholds[c] === 0) thresholds[c] = Number.MIN_VALUE;
  }
  return { numFeatures: d, numClasses: k, quantile, shrinkage, cholesky, whitenedCentroids, thresholds };
}

/** Scores each row of `x`: the nearest class in threshold-relative distance, and whether it is novel. */
export function scoreNovelty(model: NoveltyModel, x: FeatureMatrix): NoveltyScores {
  assertFeatureMatrix(x, 'novelty score', model.numFeatures);
  const { data, rows, cols: d } = x;
  const k = model.numClasses;
  const score = new Float64Array(rows);
  const distance = new Float64Array(rows);
  const nearestClass = new Int32Array(rows);
  const novel = new Uint8Array(rows);
  const u = new Float64Array(d);
  for (let r = 0; r < rows; r++) {
    forwardSubstitute(model.cholesky, d, data.subarray(r * d, (r + 1) * d), u);
    let best = Infinity;
    let bestClass = -1;
    let bestDist = Infinity;
    for (let c = 0; c < k; c++) {
      const thr = model.thresholds[c];
      if (Number.isNaN(thr)) continue;
      const dist = Math.sqrt(squaredDistance(u, model.whitenedCentroids, c * d, d));
      const s = dist / thr;
      if (s < best) {
        best = s;
        bestClass = c;
        bestDist = dist;
      }
    }
    score[r] = best;
    distance[r] = bestDist;
    nearestClass[r] = bestClass;
    novel[r] = best > 1 ? 1 : 0;
  }
  return { score, distance, nearestClass, novel };
}

function sampleRows(rows: number, max: number, seed: number): Int32Array {
  const all = new Int32Array(rows);
  for (let i = 0; i < rows; i++) all[i] = i;
  if (rows <= max) return all;
  const rng = createRng(seed);
  for (let i = 0; i < max; i++) {
    const j = i + rng.nextInt(rows - i);
    const t = all[i];
    all[i] = all[j];
    all[j] = t;
  }
  return all.slice(0, max).sort();
}

/** Cholesky factor of a symmetric positive definite matrix given by its lower triangle (row-major). */
function choleskyLower(a: Float64Array, d: number): Float64Array {
  const l = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * d + j];
      for (let p = 0; p < j; p++) s -= l[i * d + p] * l[j * d + p];
      if (i === j) {
        if (!(s > 0)) throw new Error('novelty fit: covariance is not positive definite (raise shrinkage)');
        l[i * d + i] = Math.sqrt(s);
      } else {
        l[i * d + j] = s / l[j * d + j];
      }
    }
  }
  return l;
}

/** Solves L u = v for u. */
function forwardSubstitute(l: Float64Array, d: number, v: ArrayLike<number>, u: Float64Array): void {
  for (let i = 0; i < d; i++) {
    let s = v[i];
    const row = i * d;
    for (let p = 0; p < i; p++) s -= l[row + p] * u[p];
    u[i] = s / l[row + i];
  }
}

function squaredDistance(u: Float64Array, m: Float64Array, offset: number, d: number): number {
  let s = 0;
  for (let j = 0; j < d; j++) {
    const t = u[j] - m[offset + j];
    s += t * t;
  }
  return s;
}

export const NOVELTY_FORMAT = 'leukograph.novelty';
export const NOVELTY_FORMAT_VERSION = 1;

export function noveltyToJson(model: NoveltyModel): string {
  return JSON.stringify({
    format: NOVELTY_FORMAT,
    version: NOVELTY_FORMAT_VERSION,
    numFeatures: model.numFeatures,
    numClasses: model.numClasses,
    quantile: model.quantile,
    shrinkage: model.shrinkage,
    cholesky: encodeTypedArray(model.cholesky),
    whitenedCentroids: encodeTypedArray(model.whitenedCentroids),
    thresholds: encodeTypedArray(model.thresholds),
  });
}

export function noveltyFromJson(text: string): NoveltyModel {
  const v = JSON.parse(text) as Record<string, unknown>;
  const fail = (m: string): never => {
    throw new Error(`novelty model: ${m}`);
  };
  if (typeof v !== 'object' || v === null) fail('not an object');
  if (v.format !== NOVELTY_FORMAT) fail(`format is ${String(v.format)}, expected ${NOVELTY_FORMAT}`);
  if (v.version !== NOVELTY_FORMAT_VERSION) fail(`version ${String(v.version)} is not supported`);
  const d = v.numFeatures as number;
  const k = v.numClasses as number;
  if (!Number.isInteger(d) || d < 1 || !Number.isInteger(k) || k < 1) fail('numFeatures and numClasses must be positive integers');
  const cholesky = decodeTypedArray(v.cholesky, 'f64', 'cholesky');
  const whitenedCentroids = decodeTypedArray(v.whitenedCentroids, 'f64', 'whitenedCentroids');
  const thresholds = decodeTypedArray(v.thresholds, 'f64', 'thresholds');
  if (cholesky.length !== d * d || whitenedCentroids.length !== k * d || thresholds.length !== k) {
    fail('array sizes do not match numFeatures and numClasses');
  }
  const quantile = v.quantile as number;
  const shrinkage = v.shrinkage as number;
  return { numFeatures: d, numClasses: k, quantile, shrinkage, cholesky, whitenedCentroids, thresholds };
}
