// The random forest's saved form: versioned JSON with the flat tree arrays and bin edges as base64
// typed arrays, so a loaded model predicts on raw features exactly as the fitted one did.

import type { TreeArrays } from './decision-tree.js';
import type { RandomForest, RandomForestParams } from './random-forest.js';
import { decodeTypedArray, encodeTypedArray } from './typed-array-base64.js';

export const FOREST_FORMAT = 'leukograph.random-forest';
export const FOREST_FORMAT_VERSION = 1;

export interface SerializedTree {
  readonly feature: string;
  readonly thresholdBin: string;
  readonly next: string;
  readonly leafValues: string;
}

export interface SerializedForest {
  readonly format: typeof FOREST_FORMAT;
  readonly version: typeof FOREST_FORMAT_VERSION;
  readonly numFeatures: number;
  readonly numClasses: number;
  readonly classNames: readonly string[] | null;
  readonly params: RandomForestParams;
  readonly bins: { readonly edges: string; readonly offsets: string };
  readonly featureImportances: string;
  readonly trees: readonly SerializedTree[];
}

export function serializeForest(forest: RandomForest): SerializedForest {
  return {
    format: FOREST_FORMAT,
    version: FOREST_FORMAT_VERSION,
    numFeatures: forest.numFeatures,
    numClasses: forest.numClasses,
    classNames: forest.classNames,
    params: forest.params,
    bins: { edges: encodeTypedArray(forest.bins.edges), offsets: encodeTypedArray(forest.bins.offsets) },
    featureImportances: encodeTypedArray(forest.featureImportances),
    trees: forest.trees.map((t) => ({
      feature: encodeTypedArray(t.feature),
      thresholdBin: encodeTypedArray(t.thresholdBin),
      next: encodeTypedArray(t.next),
      leafValues: encodeTypedArray(t.leafValues),
    })),
  };
}

export function forestToJson(forest: RandomForest): string {
  return JSON.stringify(serializeForest(forest));
}

export function forestFromJson(text: string): RandomForest {
  return deserializeForest(JSON.parse(text) as unknown);
}

function fail(message: string): never {
  throw new Error(`random forest model: ${message}`);
}

/**
 * Rebuilds a forest from its saved form. Checks the format, the version and that every tree is well
 * formed (children after their parent, indices in range), so a corrupt file fails here rather than
 * looping or reading out of bounds in predict.
 */
export function deserializeForest(value: unknown): RandomForest {
  if (typeof value !== 'object' || value === null) fail('not an object');
  const v = value as Record<string, unknown>;
  if (v.format !== FOREST_FORMAT) fail(`format is ${String(v.format)}, expected ${FOREST_FORMAT}`);
  if (v.version !== FOREST_FORMAT_VERSION) fail(`version ${String(v.version)} is not supported (this build reads ${FOREST_FORMAT_VERSION})`);
  const numFeatures = v.numFeatures;
  const numClasses = v.numClasses;
  if (!Number.isInteger(numFeatures) || (numFeatures as number) < 1) fail('numFeatures must be a positive integer');
  if (!Number.isInteger(numClasses) || (numClasses as number) < 1) fail('numClasses must be a positive integer');
  const d = numFeatures as number;
  const k = numClasses as number;
  const classNames = v.classNames ?? null;
  if (classNames !== null && (!Array.isArray(classNames) || classNames.length !== k || !classNames.every((s) => typeof s === 'string'))) {
    fail(`classNames must be null or ${k} strings`);
  }
  const binsRaw = (v.bins ?? {}) as Record<string, unknown>;
  const edges = decodeTypedArray(binsRaw.edges, 'f64', 'bins.edges');
  const offsets = decodeTypedArray(binsRaw.offsets, 'i32', 'bins.offsets');
  if (offsets.length !== d + 1 || offsets[0] !== 0 || offsets[d] !== edges.length) fail('bins.offsets do not match the edges');
  for (let f = 0; f < d; f++) if (offsets[f + 1] < offsets[f] || offsets[f + 1] - offsets[f] > 255) fail(`bins of feature ${f} are malformed`);
  const featureImportances = decodeTypedArray(v.featureImportances, 'f64', 'featureImportances');
  if (featureImportances.length !== d) fail('featureImportances has the wrong length');
  if (!Array.isArray(v.trees) || v.trees.length === 0) fail('no trees');
  const trees = v.trees.map((raw: unknown, i: number) => deserializeTree(raw, i, d, k, offsets));
  return {
    numFeatures: d,
    numClasses: k,
    classNames: classNames as string[] | null,
    params: v.params as RandomForestParams,
    bins: { edges, offsets },
    trees,
    featureImportances,
  };
}

function deserializeTree(raw: unknown, index: number, d: number, k: number, offsets: Int32Array): TreeArrays {
  const t = (raw ?? {}) as Record<string, unknown>;
  const what = `trees[${index}]`;
  const feature = decodeTypedArray(t.feature, 'i32', `${what}.feature`);
  const thresholdBin = decodeTypedArray(t.thresholdBin, 'u8', `${what}.thresholdBin`);
  const next = decodeTypedArray(t.next, 'i32', `${what}.next`);
  const leafValues = decodeTypedArray(t.leafValues, 'f32', `${what}.leafValues`);
  const n = feature.length;
  if (n === 0 || thresholdBin.length !== n || next.length !== n) fail(`${what}: node arrays differ in length`);
  if (leafValues.length % k !== 0) fail(`${what}: leafValues is not a whole number of leaves`);
  const leaves = leafValues.length / k;
  for (let node = 0; node < n; node++) {
    const f = feature[node];
    if (f === -1) {
      if (next[node] < 0 || next[node] >= leaves) fail(`${what}: leaf ${node} points outside leafValues`);
    } else {
      if (f < 0 || f >= d) fail(`${what}: node ${node} splits on feature ${f}`);
      if (thresholdBin[node] >= offsets[f + 1] - offsets[f]) fail(`${what}: node ${node} has a bin past the feature's last cut point`);
      // Children strictly after their parent guarantees prediction terminates.
      if (next[node] <= node || next[node] + 1 >= n) fail(`${what}: node ${node} has children out of order`);
    }
  }
  return { feature, thresholdBin, next, leafValues };
}
