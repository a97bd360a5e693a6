// Seeded synthetic data sets with a known answer (Gaussian class clusters), shared by the classifier's
// tests and its benchmark so both measure the same kind of data.

import type { FeatureMatrix } from './feature-matrix.js';
import { createRng, type Rng } from './rng.js';

export interface LabelledSet {
  readonly x: FeatureMatrix;
  readonly y: Int32Array;
}

export interface GaussianClusterOptions {
  readonly rows: number;
  readonly cols: number;
  readonly classes: number;
  /** Standard deviation of the class centres around 0 (the noise around a centre is 1). Default 1. */
  readonly separation?: number;
  /** Explicit centres (classes x cols) instead of random ones. */
  readonly centers?: readonly (readonly number[])[];
  /** Relative class frequencies; default equal (labels cycle 0, 1, ..., K-1). */
  readonly proportions?: readonly number[];
  readonly seed?: number;
}

/** Standard normal draw (Box-Muller). */
export function standardNormal(rng: Rng): number {
  let u = 0;
  while (u === 0) u = rng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
}

/** Rows drawn from N(centre of their class, I), as Float32 like real latents. */
export function gaussianClusters(o: GaussianClusterOptions): LabelledSet {
  const rng = createRng(o.seed ?? 0);
  const sep = o.separation ?? 1;
  const centers = o.centers ?? Array.from({ length: o.classes }, () => Array.from({ length: o.cols }, () => sep * standardNormal(rng)));
  const cumulative: number[] = [];
  if (o.proportions) {
    const sum = o.proportions.reduce((a, b) => a + b, 0);
    let acc = 0;
    for (const p of o.proportions) cumulative.push((acc += p / sum));
  }
  const data = new Float32Array(o.rows * o.cols);
  const y = new Int32Array(o.rows);
  for (let r = 0; r < o.rows; r++) {
    let c = r % o.classes;
    if (o.proportions) {
      const u = rng.next();
      c = cumulative.findIndex((p) => u < p);
      if (c < 0) c = o.classes - 1;
    }
    y[r] = c;
    for (let f = 0; f < o.cols; f++) data[r * o.cols + f] = centers[c][f] + standardNormal(rng);
  }
  return { x: { data, rows: o.rows, cols: o.cols }, y };
}
