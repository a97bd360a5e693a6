// A forest's confidence calibration (accuracy-estimate.ts) from cells it did not train on: its held-out split when
// training kept one, else cross-fitted: k forests with the same settings, each fitted without one fold of the
// training cells, score that fold. A cell's augmented copies leave with it: a copy of a held-out cell in the
// training rows would make the fold look as easy as the training cells themselves. (Out-of-bag predictions would
// cost nothing, but with 2 copies per cell a cell and its copies are all out of a tree's bootstrap in about
// e^-3 = 5 % of trees: 5 trees of 100, whose averaged probabilities are not the full forest's scale.)
import { calibrateConfidence, type ConfidenceCalibration } from '../engine/classifier/accuracy-estimate.js';
import { createRng, mixSeed, shuffleInPlace } from '../engine/classifier/rng.js';
import { fitRandomForest, predictProba, type RandomForestOptions } from '../engine/classifier/random-forest.js';
import { matrixFromRows } from '../engine/classifier/feature-matrix.js';
import { copyOptions, type CopyRecipe } from './copy-weights.js';

/** Folds of the cross-fitted calibration: each fold forest trains on 80 % of the cells, as a 0.2 held-out split would. */
export const CALIBRATION_FOLDS = 5;

export interface CrossFitInput {
  /** The training cells' rows and class indices. */
  rows: readonly ArrayLike<number>[];
  y: readonly number[];
  /** Augmented copies: rows and the index into `rows` of the cell each was made from. */
  augmented?: { rows: readonly ArrayLike<number>[]; of: readonly number[] };
  /** Rows every fold forest trains on and none is scored on (another lab's reviewed cells). */
  always?: { rows: readonly ArrayLike<number>[]; y: readonly number[] };
  folds?: number;
  seed: number;
  /** The classifier's forest settings; sampleWeight and treeRows, which follow its rows, come from `copies`. */
  forest: RandomForestOptions & { numClasses: number };
  /** How the copies enter each fold forest, as they enter the classifier's (copy-weights.ts). Default: as cells. */
  copies?: CopyRecipe;
}

/** Each cell's fold: per class, seeded shuffled, dealt round-robin (so that each fold keeps the class mix). */
export function stratifiedFolds(y: readonly number[], folds: number, seed: number): Int32Array {
  const fold = new Int32Array(y.length);
  const byClass = new Map<number, number[]>();
  y.forEach((c, i) => (byClass.get(c) ?? byClass.set(c, []).get(c)!).push(i));
  let next = 0;
  for (const [c, idx] of [...byClass].sort((a, b) => a[0] - b[0])) {
    shuffleInPlace(idx, createRng(mixSeed(seed, 0xca1 + c)));
    // Continue the deal where the last class stopped, so that small classes do not all start in fold 0.
    for (const i of idx) fold[i] = next++ % folds;
  }
  return fold;
}

/** Out-of-fold class probabilities of every training cell (rows x numClasses), from `folds` forests. */
export function crossFittedProba(input: CrossFitInput): Float64Array {
  const folds = input.folds ?? CALIBRATION_FOLDS;
  const n = input.rows.length;
  if (folds < 2 || n < folds) throw new Error(`cross-fitted calibration: ${folds} folds of ${n} cells`);
  const k = input.forest.numClasses;
  const fold = stratifiedFolds(input.y, folds, input.seed);
  const aug = input.augmented ?? { rows: [], of: [] };
  const always = input.always ?? { rows: [], y: [] };
  const out = new Float64Array(n * k);
  for (let f = 0; f < folds; f++) {
    const keep = (i: number) => fold[i] !== f;
    const trainIdx = [...Array(n).keys()].filter(keep);
    const augIdx = aug.of.flatMap((c, j) => (keep(c) ? [j] : []));
    const x = matrixFromRows([...trainIdx.map((i) => input.rows[i]!), ...augIdx.map((j) => aug.rows[j]!), ...always.rows]);
    const y = [...trainIdx.map((i) => input.y[i]!), ...augIdx.map((j) => input.y[aug.of[j]!]!), ...always.y];
    const layout = copyOptions(trainIdx.length, augIdx.length, always.rows.length, input.copies ?? { augmentWeight: 1, plainTrees: 0 });
    const forest = fitRandomForest(x, y, { ...input.forest, ...layout, seed: mixSeed(input.forest.seed ?? 0, 0xf01d + f), onTree: undefined });
    const testIdx = [...Array(n).keys()].filter((i) => !keep(i));
    const p = predictProba(forest, matrixFromRows(testIdx.map((i) => input.rows[i]!)));
    testIdx.forEach((i, r) => out.set(p.subarray(r * k, (r + 1) * k), i * k));
  }
  return out;
}

/** The calibration from cross-fitted probabilities of the training cells. */
export function crossFittedCalibration(input: CrossFitInput): ConfidenceCalibration {
  return calibrateConfidence(crossFittedProba(input), input.forest.numClasses, input.y, 'cross-fitted');
}
