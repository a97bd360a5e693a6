// A morphology classifier from labelled rows, as the train-classifier job builds one (forest, novelty scorer,
// stain reference with per-class distributions, shape forest): what the unseen-lab evaluation trains on each
// lab, so that it scores the classifier users get. (The train-classifier handler builds the same parts inline;
// it is to call this once the pipeline refactor has landed.)
import type { CellClassifier } from './classifier-artifact.js';
import { matrixFromRows } from './feature-matrix.js';
import { fitNovelty } from './novelty.js';
import { fitRandomForest } from './random-forest.js';
import { fitShapeForest } from './stain-mix-forest.js';
import { stainReference } from '../../evaluation/stain-shift.js';
import { MORPHOLOGY_COLOUR_COLUMNS } from '../../imaging/cell-morphology.js';
import { DEFAULT_MIN_CONFIDENCE } from '../../jobs/job-kinds.js';

export interface MorphologyClassifierOptions {
  trees?: number;
  maxDepth?: number;
  seed?: number;
  minConfidence?: number;
  classMap?: string;
}

/**
 * `rows`: training rows (labelled); `allRows`: every measured cell of the training lab (the stain medians are
 * taken over them; default the training rows). Classes are those of `classNames` that occur in `labels`.
 */
export function fitMorphologyClassifier(
  rows: readonly ArrayLike<number>[],
  labels: readonly string[],
  classNames: readonly string[],
  opts: MorphologyClassifierOptions = {},
  allRows: readonly ArrayLike<number>[] = rows,
): CellClassifier {
  const used = classNames.filter((c) => labels.includes(c));
  if (used.length < 2) throw new Error(`fitMorphologyClassifier: ${used.length} class(es) among the labels; at least 2 are needed`);
  const keep = labels.flatMap((l, i) => (used.includes(l) ? [i] : []));
  const x = matrixFromRows(keep.map((i) => rows[i]!));
  const y = keep.map((i) => used.indexOf(labels[i]!));
  const base = { nEstimators: opts.trees ?? 100, maxDepth: opts.maxDepth ?? 16, seed: opts.seed ?? 0, numClasses: used.length, classNames: used };
  const forest = fitRandomForest(x, y, base);
  const novelty = fitNovelty(x, y, { numClasses: used.length, seed: opts.seed ?? 0 });
  const trainRows = keep.map((i) => rows[i]!);
  const stain = stainReference(allRows, trainRows, keep.map((i) => labels[i]!), MORPHOLOGY_COLOUR_COLUMNS, used);
  const shapeForest = fitShapeForest(trainRows, y, stain, x.cols, base);
  return {
    forest, novelty, classNames: used, classMap: opts.classMap ?? 'common5', features: 'morphology', encoderId: null,
    minConfidence: opts.minConfidence ?? DEFAULT_MIN_CONFIDENCE, stain, shapeForest,
  };
}
