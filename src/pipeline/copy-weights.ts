// How a cell's augmented copies enter a forest beside it (FOREST_DEFAULTS.augmentWeight and plainTreeShare), for
// training rows laid out as [cells | their copies | other rows (a lab's reviewed cells)]: the classifier's forest, its
// shape forest and the calibration's fold forests are each fitted on such a layout, each of its own size.
import type { RandomForestOptions } from '../engine/classifier/random-forest.js';

export interface CopyRecipe {
  /** Each copy's weight against its cell's own row. */
  augmentWeight: number;
  /** Leading trees fitted without the copies. */
  plainTrees: number;
}

/**
 * The forest's per-row weights and per-tree rows for that layout (both given, null where every row counts alike, so
 * that they replace a bigger layout's in options spread over them).
 */
export function copyOptions(cells: number, copies: number, others: number, recipe: CopyRecipe): Required<Pick<RandomForestOptions, 'sampleWeight' | 'treeRows'>> {
  if (copies === 0) return { sampleWeight: null, treeRows: null };
  const n = cells + copies + others;
  const isCopy = (i: number) => i >= cells && i < cells + copies;
  const sampleWeight = recipe.augmentWeight !== 1 ? Float64Array.from({ length: n }, (_, i) => (isCopy(i) ? recipe.augmentWeight : 1)) : null;
  const plain = recipe.plainTrees > 0 ? Int32Array.from({ length: n }, (_, i) => i).filter((i) => !isCopy(i)) : null;
  return { sampleWeight, treeRows: plain ? (t: number) => (t < recipe.plainTrees ? plain : null) : null };
}
