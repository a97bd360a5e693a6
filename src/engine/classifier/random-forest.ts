// The random forest: fitting (bootstrap, per-node feature subsets, histogram splits), probability
// prediction on raw features, and feature importances. Defaults are the paper's (docs/aecfe-method.md,
// Pipeline step 6).

import { assertFeatureMatrix, assertLabels, type FeatureMatrix } from './feature-matrix.js';
import { binColumns, fitBins, type FeatureBins } from './histogram-binning.js';
import { createGrowthScratch, growTree, type BinnedTrainingSet, type TreeArrays } from './decision-tree.js';
import { createRng, mixSeed } from './rng.js';

export type MaxFeatures = 'sqrt' | 'log2' | 'all' | number;
/** 'balanced' weighs class c by n / (K * n_c) as scikit-learn does; an array gives a weight per class index. */
export type ClassWeight = 'balanced' | readonly number[];

export interface RandomForestOptions {
  /** Trees. Default 100 (docs/aecfe-method.md §6). */
  readonly nEstimators?: number;
  /** Maximum depth, root at depth 0; null for unlimited. Default 16 (docs/aecfe-method.md §6). */
  readonly maxDepth?: number | null;
  /** A node with fewer samples (distinct rows of the tree's bootstrap) is not split. Default 2. */
  readonly minSamplesSplit?: number;
  /** Each child must keep at least this many samples (distinct rows). Default 1. */
  readonly minSamplesLeaf?: number;
  /** Features tried per split: 'sqrt' (default), 'log2', 'all', an integer count, or a fraction in (0, 1). */
  readonly maxFeatures?: MaxFeatures;
  /** Draw a bootstrap sample per tree. Default true. */
  readonly bootstrap?: boolean;
  readonly classWeight?: ClassWeight | null;
  /**
   * A weight per row (finite, > 0), multiplied into its bootstrap count and class weight as scikit-learn's
   * sample_weight is: how much a row counts, apart from its class (e.g. a cell's augmented copies against the
   * cell). Not kept with the model: prediction does not need it.
   */
  readonly sampleWeight?: ArrayLike<number> | null;
  /** Bins per feature, at most 256. Default 255. */
  readonly maxBins?: number;
  readonly seed?: number;
  /** Number of classes; default max(y) + 1. Give it when a class may be absent from y. */
  readonly numClasses?: number;
  /** Names of the class indices, kept with the model. */
  readonly classNames?: readonly string[];
  /**
   * The rows tree t is fitted on (ascending indices; its bootstrap draws that many from them), or null for every row:
   * an ensemble of forests on nested row sets in one forest, on one set of bins.
   */
  readonly treeRows?: ((tree: number) => ArrayLike<number> | null) | null;
  /** Called after each tree, for job progress. */
  readonly onTree?: (done: number, total: number) => void;
}

/** The settings a forest was fitted with, after defaults. */
export interface RandomForestParams {
  readonly nEstimators: number;
  readonly maxDepth: number | null;
  readonly minSamplesSplit: number;
  readonly minSamplesLeaf: number;
  readonly maxFeatures: number;
  readonly bootstrap: boolean;
  readonly classWeights: readonly number[] | null;
  readonly maxBins: number;
  readonly seed: number;
}

export interface RandomForest {
  readonly numFeatures: number;
  readonly numClasses: number;
  readonly classNames: readonly string[] | null;
  readonly params: RandomForestParams;
  /** Cut points of every feature: tree thresholds are bin indices into these. */
  readonly bins: FeatureBins;
  readonly trees: readonly TreeArrays[];
  /** Mean decrease in impurity per feature, summing to 1 (all zero when no tree split). */
  readonly featureImportances: Float64Array;
}

export const RANDOM_FOREST_DEFAULTS = {
  nEstimators: 100,
  maxDepth: 16,
  minSamplesSplit: 2,
  minSamplesLeaf: 1,
  maxFeatures: 'sqrt',
  bootstrap: true,
  maxBins: 255,
  seed: 0,
} as const;

export function resolveMaxFeatures(maxFeatures: MaxFeatures, cols: number): number {
  let n: number;
  if (maxFeatures === 'sqrt') n = Math.floor(Math.sqrt(cols));
  else if (maxFeatures === 'log2') n = Math.floor(Math.log2(cols));
  else if (maxFeatures === 'all') n = cols;
  else if (Number.isInteger(maxFeatures) && maxFeatures >= 1) n = Math.min(cols, maxFeatures);
  else if (maxFeatures > 0 && maxFeatures < 1) n = Math.floor(maxFeatures * cols);
  else throw new Error(`random forest: maxFeatures must be 'sqrt', 'log2', 'all', a count >= 1 or a fraction in (0, 1), got ${maxFeatures}`);
  return Math.max(1, n);
}

function integerAtLeast(value: number, name: string, min = 1): number {
  if (!Number.isInteger(value) || value < min) throw new Error(`random forest: ${name} must be an integer >= ${min}, got ${value}`);
  return value;
}

function resolveClassWeights(cw: ClassWeight | null | undefined, y: ArrayLike<number>, k: number): number[] | null {
  if (cw === null || cw === undefined) return null;
  if (cw === 'balanced') {
    const counts = new Float64Array(k);
    for (let i = 0; i < y.length; i++) counts[y[i]]++;
    return Array.from(counts, (c) => (c > 0 ? y.length / (k * c) : 1));
  }
  if (!Array.isArray(cw) || cw.length !== k) {
    throw new Error(`random forest: classWeight must be 'balanced' or an array of ${k} weights`);
  }
  for (const v of cw) {
    if (!Number.isFinite(v) || v <= 0) throw new Error(`random forest: class weights must be finite and > 0, got ${v}`);
  }
  return [...cw];
}

/**
 * Fits a forest on rows of `x` with class indices `y`. Deterministic: the same data, options and
 * seed give the same forest. Throws an Error on empty, mismatched or non-finite input.
 */
export function fitRandomForest(x: FeatureMatrix, y: ArrayLike<number>, options: RandomForestOptions = {}): RandomForest {
  assertFeatureMatrix(x, 'random forest fit');
  if (y.length !== x.rows) throw new Error(`random forest fit: ${y.length} labels for ${x.rows} rows`);
  let maxLabel = -1;
  for (let i = 0; i < y.length; i++) if (y[i] > maxLabel) maxLabel = y[i];
  const k = options.numClasses ?? Math.max(1, maxLabel + 1);
  integerAtLeast(k, 'numClasses');
  assertLabels(y, x.rows, k, 'random forest fit');
  if (options.classNames && options.classNames.length !== k) {
    throw new Error(`random forest: ${options.classNames.length} class names for ${k} classes`);
  }

  const d = RANDOM_FOREST_DEFAULTS;
  const maxDepth = options.maxDepth === undefined ? d.maxDepth : options.maxDepth;
  if (maxDepth !== null) integerAtLeast(maxDepth, 'maxDepth', 0);
  const params: RandomForestParams = {
    nEstimators: integerAtLeast(options.nEstimators ?? d.nEstimators, 'nEstimators'),
    maxDepth,
    minSamplesSplit: integerAtLeast(options.minSamplesSplit ?? d.minSamplesSplit, 'minSamplesSplit', 2),
    minSamplesLeaf: integerAtLeast(options.minSamplesLeaf ?? d.minSamplesLeaf, 'minSamplesLeaf'),
    maxFeatures: resolveMaxFeatures(options.maxFeatures ?? d.maxFeatures, x.cols),
    bootstrap: options.bootstrap ?? d.bootstrap,
    classWeights: resolveClassWeights(options.classWeight, y, k),
    maxBins: options.maxBins ?? d.maxBins,
    seed: options.seed ?? d.seed,
  };
  if (!Number.isFinite(params.seed)) throw new Error(`random forest: seed must be a finite number, got ${params.seed}`);

  const bins = fitBins(x, params.maxBins, params.seed);
  const set: BinnedTrainingSet = {
    codes: binColumns(x, bins),
    rows: x.rows,
    cols: x.cols,
    y: Int32Array.from(y),
    numClasses: k,
  };
  const rowWeight = new Float64Array(x.rows).fill(1);
  if (params.classWeights) for (let i = 0; i < x.rows; i++) rowWeight[i] = params.classWeights[set.y[i]];
  if (options.sampleWeight) {
    const sw = options.sampleWeight;
    if (sw.length !== x.rows) throw new Error(`random forest fit: ${sw.length} sample weights for ${x.rows} rows`);
    for (let i = 0; i < x.rows; i++) {
      if (!Number.isFinite(sw[i]) || sw[i] <= 0) throw new Error(`random forest: sample weights must be finite and > 0, got ${sw[i]} at row ${i}`);
      rowWeight[i] *= sw[i];
    }
  }

  const growth = {
    maxDepth: params.maxDepth ?? Number.MAX_SAFE_INTEGER,
    minSamplesSplit: params.minSamplesSplit,
    minSamplesLeaf: params.minSamplesLeaf,
    maxFeatures: params.maxFeatures,
  };
  const scratch = createGrowthScratch(set);
  const counts = new Int32Array(x.rows);
  const weight = new Float64Array(x.rows);
  const samples = new Int32Array(x.rows);
  const treeImportance = new Float64Array(x.cols);
  const importances = new Float64Array(x.cols);
  const trees: TreeArrays[] = [];
  const allRows = Int32Array.from({ length: x.rows }, (_, i) => i);
  for (let t = 0; t < params.nEstimators; t++) {
    // Each tree has its own stream, so tree t does not depend on how many draws tree t-1 made.
    const rng = createRng(mixSeed(params.seed, t + 1));
    let n = 0;
    // The rows this tree may draw from: its own set, or every row (allRows, in the same ascending order).
    const own = options.treeRows?.(t) ?? null;
    if (own) assertTreeRows(own, x.rows, t);
    const pool = own ?? allRows;
    if (params.bootstrap) {
      counts.fill(0);
      for (let k = 0; k < pool.length; k++) counts[pool[rng.nextInt(pool.length)]]++;
    }
    for (let k = 0; k < pool.length; k++) {
      const i = pool[k];
      const c = params.bootstrap ? counts[i] : 1;
      if (c > 0) {
        samples[n++] = i;
        weight[i] = c * rowWeight[i];
      }
    }
    treeImportance.fill(0);
    trees.push(growTree(set, samples.subarray(0, n), weight, growth, rng, scratch, treeImportance));
    // As scikit-learn: normalise per tree, then average.
    let sum = 0;
    for (let f = 0; f < x.cols; f++) sum += treeImportance[f];
    if (sum > 0) for (let f = 0; f < x.cols; f++) importances[f] += treeImportance[f] / sum;
    options.onTree?.(t + 1, params.nEstimators);
  }
  let sum = 0;
  for (let f = 0; f < x.cols; f++) sum += importances[f];
  if (sum > 0) for (let f = 0; f < x.cols; f++) importances[f] /= sum;

  return {
    numFeatures: x.cols,
    numClasses: k,
    classNames: options.classNames ? [...options.classNames] : null,
    params,
    bins,
    trees,
    featureImportances: importances,
  };
}

function assertTreeRows(rows: ArrayLike<number>, n: number, tree: number): void {
  if (rows.length === 0) throw new Error(`random forest: tree ${tree} was given no rows`);
  for (let k = 0; k < rows.length; k++) {
    const i = rows[k];
    if (!Number.isInteger(i) || i < 0 || i >= n || (k > 0 && i <= rows[k - 1])) {
      throw new Error(`random forest: tree ${tree}'s rows must be ascending indices below ${n}, got ${i} at ${k}`);
    }
  }
}

/**
 * Class probabilities, row-major (rows x numClasses): the mean over trees of the leaf's class
 * distribution. Works on raw features: a node's threshold is the upper cut point of its bin.
 */
export function predictProba(forest: RandomForest, x: FeatureMatrix): Float64Array {
  assertFeatureMatrix(x, 'random forest predict', forest.numFeatures);
  const { data, rows, cols } = x;
  const k = forest.numClasses;
  const { edges, offsets } = forest.bins;
  const out = new Float64Array(rows * k);
  for (const tree of forest.trees) {
    const { feature, thresholdBin, next, leafValues } = tree;
    for (let r = 0; r < rows; r++) {
      const row = r * cols;
      let node = 0;
      let f = feature[0];
      while (f >= 0) {
        node = data[row + f] <= edges[offsets[f] + thresholdBin[node]] ? next[node] : next[node] + 1;
        f = feature[node];
      }
      const leaf = next[node] * k;
      const o = r * k;
      for (let c = 0; c < k; c++) out[o + c] += leafValues[leaf + c];
    }
  }
  const scale = 1 / forest.trees.length;
  for (let i = 0; i < out.length; i++) out[i] *= scale;
  return out;
}

/** Most probable class index per row (the lowest index on a tie). */
export function predict(forest: RandomForest, x: FeatureMatrix): Int32Array {
  return argmaxRows(predictProba(forest, x), forest.numClasses);
}

/** Index of the largest value in each row of a row-major matrix with `cols` columns. */
export function argmaxRows(values: Float64Array, cols: number): Int32Array {
  const rows = values.length / cols;
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < cols; c++) if (values[r * cols + c] > values[r * cols + best]) best = c;
    out[r] = best;
  }
  return out;
}
