// Neighbour consensus: each cell's class probabilities averaged with those of its nearest neighbours among the
// cells of the same lab, classified together. Cells of one type from one lab resemble each other more than the
// training lab's cells of that type (same stain, camera and blur), so where the forest wavers on a cell,
// similar cells of its own lab carry the verdict. Neighbours are found on the lab's own standardised values:
// a per-column shift or scale of the whole lab (its stain) does not change who is near whom. No labels are used.
// Measured (morphology_consensus in docs/results-seeds.md; training/classifier-exploration/README.md): BCCD gains about 3
// points of accuracy over the morphology forest with the stain move, but rare types are pulled towards common ones
// (BCCD's two basophils lost), and Zheng DS2 and the source's held-out cells lose a little: classify jobs apply it
// only when asked (neighbourConsensus).
import type { FeatureMatrix } from './feature-matrix.js';
import { nearestNeighbours } from './nearest-neighbours.js';

export interface ConsensusOptions {
  /** Neighbours per cell (default 5). */
  k?: number;
  /** Share of the neighbours' mean in the result (default 0.5: half the cell's own probabilities). */
  weight?: number;
}

export const CONSENSUS_DEFAULTS = { k: 5, weight: 0.5 } as const;

/**
 * One consensus step: row i of the result is (1 - weight) * proba_i + weight * mean of proba over the k nearest
 * other rows of x (Euclidean distance on columns standardised over x's rows; constant columns ignored; of rows at
 * the same distance, the lower index is nearer), the neighbours' probabilities added nearest first.
 * `proba` is row-major, x.rows x classes. With fewer than k other rows (k or fewer rows), or only constant columns, the probabilities come back unchanged.
 * Exact search (nearest-neighbours.ts: the same neighbours, in the same order, as comparing every pair one by one,
 * which this did before). Measured with scripts/consensus-timing.ts (made-up labs of 59 values with the shipped
 * classifier's within-class covariance; one core of a shared 2-core machine at load 4-6): 6,000 cells 1.5 s
 * (3.2 s before), 20,000 cells 11.7 s (34.0 s before), the probabilities bit for bit the same.
 */
export function neighbourConsensus(x: FeatureMatrix, proba: ArrayLike<number>, classes: number, options: ConsensusOptions = {}): Float64Array {
  const k = options.k ?? CONSENSUS_DEFAULTS.k;
  const weight = options.weight ?? CONSENSUS_DEFAULTS.weight;
  if (!Number.isInteger(k) || k < 1) throw new Error(`neighbour consensus: k must be a positive integer, got ${k}`);
  if (!(weight >= 0 && weight <= 1)) throw new Error(`neighbour consensus: weight must lie in [0, 1], got ${weight}`);
  const n = x.rows;
  if (proba.length !== n * classes) throw new Error(`neighbour consensus: ${proba.length} probabilities for ${n} rows x ${classes} classes`);
  const out = Float64Array.from(proba);
  if (n <= k || weight === 0) return out;
  const z = standardised(x);
  const d = z.length / n;
  if (d === 0) return out; // every column constant: no cell is nearer than another
  const nearest = nearestNeighbours(z, n, d, k);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < classes; c++) {
      let m = 0;
      for (let q = 0; q < k; q++) m += proba[nearest[i * k + q]! * classes + c]!;
      out[i * classes + c] = (1 - weight) * proba[i * classes + c]! + (weight * m) / k;
    }
  }
  return out;
}

/** x's non-constant columns, each centred and divided by its standard deviation over the rows. */
function standardised(x: FeatureMatrix): Float64Array {
  const { rows: n, cols } = x;
  const keep: Array<{ c: number; mean: number; sd: number }> = [];
  for (let c = 0; c < cols; c++) {
    let s = 0;
    let s2 = 0;
    for (let r = 0; r < n; r++) {
      const v = x.data[r * cols + c]!;
      s += v;
      s2 += v * v;
    }
    const mean = s / n;
    const sd = Math.sqrt(Math.max(0, s2 / n - mean * mean));
    if (sd > 1e-12 * Math.max(1, Math.abs(mean))) keep.push({ c, mean, sd });
  }
  const d = keep.length;
  const z = new Float64Array(n * d);
  for (let r = 0; r < n; r++) {
    for (let q = 0; q < d; q++) {
      const { c, mean, sd } = keep[q]!;
      z[r * d + q] = (x.data[r * cols + c]! - mean) / sd;
    }
  }
  return z;
}
