// One classification tree grown on bin codes: Gini impurity, a random subset of features per node,
// best split found by scanning per-node class-weight histograms. Trees are flat typed arrays.
//
// No sibling-histogram subtraction: it needs the parent's histogram of every feature the child
// draws, but with sqrt(d) features drawn per node a child's draw overlaps its parent's in only
// sqrt(d)/d of features (14 % at d = 50). Building all d histograms for the smaller child instead
// costs d * n_small, more than sqrt(d) * n_node direct unless the split sends < sqrt(d)/d of the
// node one way. LightGBM-style subtraction pays off when every node scans every feature, not here.

import type { Rng } from './rng.js';

/**
 * A fitted tree. Node 0 is the root. At an internal node a sample goes left when its bin code for
 * `feature[node]` is <= `thresholdBin[node]`; the left child is `next[node]` and the right child
 * `next[node] + 1`. At a leaf `feature[node]` is -1 and `next[node]` is the leaf's index: its class
 * probabilities are leafValues[next * numClasses ..][0 .. numClasses).
 */
export interface TreeArrays {
  readonly feature: Int32Array;
  readonly thresholdBin: Uint8Array;
  readonly next: Int32Array;
  readonly leafValues: Float32Array;
}

/** The binned training set shared by all trees of a forest. */
export interface BinnedTrainingSet {
  /** Column-major bin codes: codes[f * rows + r]. */
  readonly codes: Uint8Array;
  readonly rows: number;
  readonly cols: number;
  readonly y: Int32Array;
  readonly numClasses: number;
}

export interface TreeGrowthParams {
  readonly maxDepth: number;
  readonly minSamplesSplit: number;
  readonly minSamplesLeaf: number;
  /** Non-constant features to evaluate per node. */
  readonly maxFeatures: number;
}

/**
 * Nodes with at most this many samples are scanned by sorting their codes instead of through a
 * histogram: such a node touches at most 40 of 255 bins, and walking the empty ones cost more than
 * sorting (fit on 10k x 50 went from 1.6 s to 1.35 s CPU; 24-48 measured alike). Must stay <= 256
 * because the sort key packs the position in the node into 8 bits.
 */
const SORTED_SCAN_MAX_SAMPLES = 40;

/** Buffers a tree needs while growing; one set serves every tree of a forest. */
export interface GrowthScratch {
  readonly histWeight: Float64Array; // 256 bins x classes
  readonly histCount: Int32Array; // 256 bins
  readonly nodeY: Int32Array;
  readonly nodeW: Float64Array;
  readonly featureOrder: Int32Array;
  readonly leftAcc: Float64Array;
  readonly bestLeft: Float64Array;
  readonly sortKeys: Int32Array;
  readonly rightBuffer: Int32Array;
}

export function createGrowthScratch(set: BinnedTrainingSet): GrowthScratch {
  const k = set.numClasses;
  return {
    histWeight: new Float64Array(256 * k),
    histCount: new Int32Array(256),
    nodeY: new Int32Array(set.rows),
    nodeW: new Float64Array(set.rows),
    featureOrder: new Int32Array(set.cols),
    leftAcc: new Float64Array(k),
    bestLeft: new Float64Array(k),
    sortKeys: new Int32Array(SORTED_SCAN_MAX_SAMPLES),
    rightBuffer: new Int32Array(set.rows),
  };
}

interface PendingNode {
  node: number;
  start: number;
  end: number;
  depth: number;
  totals: Float64Array;
}

/** The node being split and the best split found so far; one mutable object per tree. */
interface SplitSearch {
  start: number;
  end: number;
  /** Class weight totals of the node. */
  totals: Float64Array;
  weight: number;
  minSamplesLeaf: number;
  bestScore: number;
  bestFeature: number;
  bestBin: number;
}

/**
 * Grows one tree on the samples listed in `samples` (ascending row indices, each with weight[s] > 0:
 * bootstrap count times class weight). `samples` is reordered in place so every node owns a
 * contiguous range of it.
 * Adds each split's weighted impurity decrease to `importance[feature]`.
 */
export function growTree(
  set: BinnedTrainingSet,
  samples: Int32Array,
  weight: Float64Array,
  params: TreeGrowthParams,
  rng: Rng,
  scratch: GrowthScratch,
  importance: Float64Array,
): TreeArrays {
  const { codes, rows, cols, y, numClasses: k } = set;
  const { maxDepth, minSamplesSplit, minSamplesLeaf, maxFeatures } = params;
  const { nodeY, nodeW, featureOrder, bestLeft, rightBuffer } = scratch;
  const feature: number[] = [];
  const thresholdBin: number[] = [];
  const next: number[] = [];
  const leafValues: number[] = [];
  for (let f = 0; f < cols; f++) featureOrder[f] = f;

  const rootTotals = new Float64Array(k);
  for (let i = 0; i < samples.length; i++) rootTotals[y[samples[i]]] += weight[samples[i]];
  feature.push(-1);
  thresholdBin.push(0);
  next.push(0);
  const stack: PendingNode[] = [{ node: 0, start: 0, end: samples.length, depth: 0, totals: rootTotals }];
  const search: SplitSearch = { start: 0, end: 0, totals: rootTotals, weight: 0, minSamplesLeaf, bestScore: 0, bestFeature: -1, bestBin: 0 };

  while (stack.length > 0) {
    const { node, start, end, depth, totals } = stack.pop()!;
    const m = end - start;
    let w = 0;
    let sumSq = 0;
    let classesPresent = 0;
    for (let c = 0; c < k; c++) {
      const t = totals[c];
      w += t;
      sumSq += t * t;
      if (t > 0) classesPresent++;
    }

    search.start = start;
    search.end = end;
    search.totals = totals;
    search.weight = w;
    search.bestScore = -Infinity;
    search.bestFeature = -1;
    search.bestBin = 0;
    if (depth < maxDepth && m >= minSamplesSplit && m >= 2 * minSamplesLeaf && classesPresent > 1) {
      for (let i = start; i < end; i++) {
        const s = samples[i];
        nodeY[i - start] = y[s];
        nodeW[i - start] = weight[s];
      }
      const small = m <= SORTED_SCAN_MAX_SAMPLES;
      // Draw features without replacement until maxFeatures non-constant ones have been scanned,
      // like scikit-learn: a constant feature cannot split and should not use up the budget.
      let scanned = 0;
      for (let drawn = 0; drawn < cols && scanned < maxFeatures; drawn++) {
        const j = drawn + rng.nextInt(cols - drawn);
        const f = featureOrder[j];
        featureOrder[j] = featureOrder[drawn];
        featureOrder[drawn] = f;
        const splittable = small ? scanSorted(set, samples, scratch, search, f) : scanHistogram(set, samples, scratch, search, f);
        if (splittable) scanned++;
      }
    }

    const bestFeature = search.bestFeature;
    if (bestFeature < 0) {
      feature[node] = -1;
      next[node] = leafValues.length / k;
      for (let c = 0; c < k; c++) leafValues.push(totals[c] / w);
      continue;
    }

    // Stable partition, codes <= bestBin first: samples stay in ascending row order inside every
    // node, so histogram building reads each feature's codes front to back (cache-friendly at 100k rows).
    const bestBin = search.bestBin;
    const base = bestFeature * rows;
    let i = start;
    let nRight = 0;
    for (let p = start; p < end; p++) {
      const s = samples[p];
      if (codes[base + s] <= bestBin) samples[i++] = s;
      else rightBuffer[nRight++] = s;
    }
    for (let p = 0; p < nRight; p++) samples[i + p] = rightBuffer[p];
    const leftTotals = Float64Array.from(bestLeft);
    const rightTotals = new Float64Array(k);
    for (let c = 0; c < k; c++) rightTotals[c] = totals[c] - leftTotals[c];
    importance[bestFeature] += search.bestScore - sumSq / w;

    const left = feature.length;
    feature[node] = bestFeature;
    thresholdBin[node] = bestBin;
    next[node] = left;
    feature.push(-1, -1);
    thresholdBin.push(0, 0);
    next.push(0, 0);
    // Right is pushed first so the left subtree is grown first.
    stack.push({ node: left + 1, start: i, end, depth: depth + 1, totals: rightTotals });
    stack.push({ node: left, start, end: i, depth: depth + 1, totals: leftTotals });
  }

  return {
    feature: Int32Array.from(feature),
    thresholdBin: Uint8Array.from(thresholdBin),
    next: Int32Array.from(next),
    leafValues: Float32Array.from(leafValues),
  };
}

/**
 * Considers the split "left = the class weights accumulated in leftAcc (total wl), i.e. codes <= b";
 * keeps it when it beats the best. Minimising weighted Gini is maximising sum(l^2)/wl + sum(r^2)/wr.
 */
function consider(scratch: GrowthScratch, search: SplitSearch, k: number, f: number, b: number, wl: number): void {
  const { leftAcc } = scratch;
  const totals = search.totals;
  let sl = 0;
  let sr = 0;
  for (let c = 0; c < k; c++) {
    const l = leftAcc[c];
    const r = totals[c] - l;
    sl += l * l;
    sr += r * r;
  }
  const score = sl / wl + sr / (search.weight - wl);
  if (score > search.bestScore) {
    search.bestScore = score;
    search.bestFeature = f;
    search.bestBin = b;
    scratch.bestLeft.set(leftAcc);
  }
}

/** Best split on feature f through a class-weight histogram over its bins; false when f is constant in the node. */
function scanHistogram(set: BinnedTrainingSet, samples: Int32Array, scratch: GrowthScratch, search: SplitSearch, f: number): boolean {
  const { codes, rows, numClasses: k } = set;
  const { histWeight, histCount, nodeY, nodeW, leftAcc } = scratch;
  const { start, end, minSamplesLeaf } = search;
  const m = end - start;
  const base = f * rows;
  let lo = 255;
  let hi = 0;
  for (let i = start; i < end; i++) {
    const b = codes[base + samples[i]];
    const r = i - start;
    histWeight[b * k + nodeY[r]] += nodeW[r];
    histCount[b]++;
    if (b < lo) lo = b;
    if (b > hi) hi = b;
  }
  // Bins are cleared as they are read, so the histogram is all zero again for the next feature
  // without a full fill; the last loop clears what the scan did not reach.
  let b = lo;
  if (lo < hi) {
    leftAcc.fill(0);
    let wl = 0;
    let nl = 0;
    for (; b < hi; b++) {
      const cnt = histCount[b];
      if (cnt === 0) continue;
      histCount[b] = 0;
      nl += cnt;
      const off = b * k;
      for (let c = 0; c < k; c++) {
        const v = histWeight[off + c];
        histWeight[off + c] = 0;
        leftAcc[c] += v;
        wl += v;
      }
      if (nl < minSamplesLeaf) continue;
      if (m - nl < minSamplesLeaf) break;
      consider(scratch, search, k, f, b, wl);
    }
  }
  for (; b <= hi; b++) {
    if (histCount[b] === 0) continue;
    histCount[b] = 0;
    const off = b * k;
    for (let c = 0; c < k; c++) histWeight[off + c] = 0;
  }
  return lo < hi;
}

/** The same candidate splits as scanHistogram, for small nodes: sorts the node's (code, position) pairs and walks them. */
function scanSorted(set: BinnedTrainingSet, samples: Int32Array, scratch: GrowthScratch, search: SplitSearch, f: number): boolean {
  const { codes, rows, numClasses: k } = set;
  const { nodeY, nodeW, leftAcc, sortKeys } = scratch;
  const { start, end, minSamplesLeaf } = search;
  const m = end - start;
  const base = f * rows;
  // Key = code * 256 + position in the node: one integer sort orders by code.
  // Insertion sort: for a few dozen keys it beats TypedArray#sort, whose call overhead dominated.
  const keys = sortKeys;
  for (let i = 0; i < m; i++) {
    const key = (codes[base + samples[start + i]] << 8) | i;
    let j = i - 1;
    while (j >= 0 && keys[j] > key) {
      keys[j + 1] = keys[j];
      j--;
    }
    keys[j + 1] = key;
  }
  if (keys[0] >> 8 === keys[m - 1] >> 8) return false;
  leftAcc.fill(0);
  let wl = 0;
  for (let i = 0; i < m - 1; i++) {
    const r = keys[i] & 255;
    const v = nodeW[r];
    leftAcc[nodeY[r]] += v;
    wl += v;
    const b = keys[i] >> 8;
    if (keys[i + 1] >> 8 === b) continue;
    const nl = i + 1;
    if (nl < minSamplesLeaf) continue;
    if (m - nl < minSamplesLeaf) break;
    consider(scratch, search, k, f, b, wl);
  }
  return true;
}
