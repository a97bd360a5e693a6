// Classifier training: a random forest (docs/aecfe-method.md §6: 100 trees, depth 16) on one
// feature row per labelled cell, fitted on a stratified seeded part of them, with the novelty model that
// flags cells unlike the training data, and, for morphology, the stain reference and the stain-free
// shape forest that the stain step needs. The train-classifier job and the evaluation both call it.
import { argmaxRows, fitRandomForest, predictProba, type MaxFeatures } from '../engine/classifier/random-forest.js';
import { fitNovelty } from '../engine/classifier/novelty.js';
import { fitShapeForest } from '../engine/classifier/stain-mix-forest.js';
import { stainReference } from '../engine/classifier/stain-shift.js';
import { mixSeed } from '../engine/classifier/rng.js';
import type { CellClassifier, ClassifierFeatures } from '../engine/classifier/classifier-artifact.js';
import { matrixFromRows, type FeatureMatrix } from '../engine/classifier/feature-matrix.js';
import { MORPHOLOGY_COLOUR_COLUMNS } from '../imaging/cell-morphology.js';
import type { RandomForest } from '../engine/classifier/random-forest.js';
import { stratifiedSplit, type TrainTestSplit } from './split.js';
import { classificationReport, type ClassificationReport } from './metrics.js';
import { DEFAULT_MIN_CONFIDENCE, DEFAULT_REVIEW_SHARE, FOREST_DEFAULTS } from './defaults.js';
import { reviewCopies, withReviewedRows } from './reviewed-cells.js';
import { copyOptions, type CopyRecipe } from './copy-weights.js';
import { CALIBRATION_FOLDS, crossFittedCalibration, type CrossFitInput } from './confidence-calibration.js';
import { calibrateConfidence, type ConfidenceCalibration } from '../engine/classifier/accuracy-estimate.js';
import { packRows32, type TrainingCells } from '../engine/classifier/training-cells.js';

export interface ClassifierTrainingInput {
  /** One feature row per labelled cell. */
  rows: readonly ArrayLike<number>[];
  /** Each row's class, one of `classNames`. */
  labels: readonly string[];
  /** The class list, in its order; classes without a cell get no column. */
  classNames: readonly string[];
  features: ClassifierFeatures;
  classMap: string;
  encoderId?: string | null;
  /** Morphology: the rows the stain medians are taken over (every measured cell, labels unused). Default `rows`. */
  stainRows?: readonly ArrayLike<number>[];
  /**
   * A lab's reviewed cells (rows read as `rows` are, morphology already moved onto the source's stain) and
   * their classes: they join the training split only, repeated to carry `share` of the training weight
   * (reviewed-cells.ts); the stain reference stays the source's alone.
   */
  reviewed?: { rows: readonly ArrayLike<number>[]; labels: readonly string[]; share?: number };
  /**
   * Training-time augmentation (augment.ts): rows of transformed copies of the cells' crops, `of` naming the row
   * each was made from. Copies of training-split cells join the forest's (and the novelty and shape forest's)
   * training rows with their cell's class; copies of held-out cells are left out. The stain reference stays the
   * source cells' own.
   */
  augmented?: { rows: readonly ArrayLike<number>[]; of: readonly number[] };
  /** Fit the stain reference and the shape forest. Default: features === 'morphology'. */
  stain?: boolean;
  /**
   * The columns the stain step moves (the shape forest reads the others). Default MORPHOLOGY_COLOUR_COLUMNS; an
   * exploration with another view appended to the morphology values can have the step move that view too.
   */
  stainColumns?: readonly number[];
  trees?: number;
  maxDepth?: number;
  /** The forest's (and the shape forest's) smallest leaf, in distinct rows. */
  minSamplesLeaf?: number;
  /** Features tried per split. */
  maxFeatures?: MaxFeatures;
  /** The weight of each augmented copy against its cell's own row (1: a copy counts as a cell). */
  augmentWeight?: number;
  /** The share of the trees fitted without the augmented copies (an augmented and a plain forest in one). */
  plainTreeShare?: number;
  seed?: number;
  balanced?: boolean;
  testFraction?: number;
  minConfidence?: number;
  /**
   * The confidence calibration (accuracy-estimate.ts) the self-check reads a lab's accuracy estimate through: from
   * the held-out split when there is one, else cross-fitted with this many folds (confidence-calibration.ts; 0:
   * none). Default: CALIBRATION_FOLDS for morphology (whose classify jobs run the confidence check), 0 otherwise.
   */
  calibrationFolds?: number;
  /**
   * With augmented copies: also fit a plain forest on the training cells alone (and the reviewed cells), with its
   * own calibration and the per-column profile routing measures a lab against (lab-classification.ts). Default: true
   * for a morphology classifier given augmented copies.
   */
  plainForest?: boolean;
  onTree?: (done: number, total: number) => void;
  /**
   * Keep the training cells in the classifier (engine/classifier/training-cells.ts), so that a classify job can fit it
   * again with a lab's own cells (self-training.ts). Default false; the train-classifier job keeps them for morphology.
   */
  keepTrainingCells?: boolean;
}

export interface TrainedClassifier {
  classifier: CellClassifier;
  /** Indices into the input rows. */
  split: TrainTestSplit;
  /** The held-out rows' scores; null without held-out rows. */
  heldOut: ClassificationReport | null;
  /** How many times each reviewed row was repeated (0 without reviewed rows). */
  reviewCopies: number;
}

/** The forest's seed from the run's seed (the split and the novelty model take the run's seed itself). */
export const forestSeed = (seed: number): number => mixSeed(seed, 0xf0e5);

/** The forest settings a training input asks for, each missing one FOREST_DEFAULTS' (the evaluation reports these). */
export function forestSettings(input: Pick<ClassifierTrainingInput, 'trees' | 'maxDepth' | 'minSamplesLeaf' | 'maxFeatures' | 'augmentWeight' | 'plainTreeShare'>) {
  return {
    trees: input.trees ?? FOREST_DEFAULTS.trees,
    maxDepth: input.maxDepth ?? FOREST_DEFAULTS.maxDepth,
    minSamplesLeaf: input.minSamplesLeaf ?? FOREST_DEFAULTS.minSamplesLeaf,
    maxFeatures: input.maxFeatures ?? FOREST_DEFAULTS.maxFeatures,
    augmentWeight: input.augmentWeight ?? FOREST_DEFAULTS.augmentWeight,
    plainTreeShare: input.plainTreeShare ?? FOREST_DEFAULTS.plainTreeShare,
  };
}

export function trainCellClassifier(input: ClassifierTrainingInput): TrainedClassifier {
  const seed = input.seed ?? FOREST_DEFAULTS.seed;
  const { trees, maxDepth, minSamplesLeaf, maxFeatures, augmentWeight, plainTreeShare: plainShare } = forestSettings(input);
  const testFraction = input.testFraction ?? FOREST_DEFAULTS.testFraction;
  const balanced = input.balanced ?? FOREST_DEFAULTS.balanced;
  if (!(augmentWeight > 0 && Number.isFinite(augmentWeight))) throw new Error(`classifier training: augmentWeight must be finite and > 0, got ${augmentWeight}`);
  if (input.rows.length !== input.labels.length) throw new Error(`classifier training: ${input.rows.length} rows, ${input.labels.length} labels`);
  // Only classes seen in training are predicted; the others keep no column.
  const reviewed = input.reviewed ?? { rows: [], labels: [] };
  const used = input.classNames.filter((c) => input.labels.includes(c) || reviewed.labels.includes(c));
  if (used.length < 2) throw new Error(`classifier training: need cells of at least 2 classes, found ${used.length}`);
  const split = testFraction > 0 ? stratifiedSplit(input.labels, { testFraction, seed }) : { train: input.labels.map((_, i) => i), test: [] };
  const dim = input.rows[0]!.length;
  const toMatrix = (idx: readonly number[]): FeatureMatrix => {
    const data = new Float64Array(idx.length * dim);
    idx.forEach((r, i) => data.set(input.rows[r]!, i * dim));
    return { data, rows: idx.length, cols: dim };
  };
  const sourceTrain = split.train.map((i) => input.rows[i]!);
  const inTrain = new Set(split.train);
  const augIdx = (input.augmented?.of ?? []).flatMap((r, j) => (inTrain.has(r) ? [j] : []));
  const trainRows = [...sourceTrain, ...augIdx.map((j) => input.augmented!.rows[j]!)];
  const trainLabels = [...split.train, ...augIdx.map((j) => input.augmented!.of[j]!)].map((i) => used.indexOf(input.labels[i]!));
  // Reviewed cells carry their share of the training weight (augmented copies included, at their weight).
  const reviewShare = reviewed.share ?? DEFAULT_REVIEW_SHARE;
  const reviewedY = reviewed.labels.map((l) => used.indexOf(l));
  const copies = reviewCopies(sourceTrain.length + augmentWeight * augIdx.length, reviewed.rows.length, reviewShare);
  const fitted = withReviewedRows(trainRows, trainLabels, reviewed.rows, reviewedY, copies);
  const train = matrixFromRows(fitted.x);
  const trainY = fitted.y;
  if (!(plainShare >= 0 && plainShare <= 1)) throw new Error(`classifier training: plainTreeShare must be in [0, 1], got ${plainShare}`);
  const recipe: CopyRecipe = { augmentWeight, plainTrees: Math.round(plainShare * trees) };
  const forestOptions = {
    nEstimators: trees, maxDepth, seed: forestSeed(seed), classWeight: balanced ? ('balanced' as const) : null, numClasses: used.length, classNames: used,
    minSamplesLeaf, maxFeatures,
    // Rows in fitted order: the cells, their copies, then the reviewed rows.
    ...copyOptions(sourceTrain.length, augIdx.length, fitted.x.length - trainRows.length, recipe),
  };
  const forest = fitRandomForest(train, trainY, { ...forestOptions, onTree: input.onTree });
  const novelty = fitNovelty(train, trainY, { numClasses: used.length, seed });
  // A morphology classifier keeps its training cells' stain reference (medians over every measured cell,
  // within-class spread over the training split), so that the stain step can tell and undo another lab's
  // stain; with it, a forest on the stain-free columns, which estimates that lab's class mix first.
  const withStain = input.stain ?? input.features === 'morphology';
  const stain = withStain ? stainReference(input.stainRows ?? input.rows, sourceTrain, split.train.map((i) => input.labels[i]!), input.stainColumns ?? MORPHOLOGY_COLOUR_COLUMNS, used) : null;
  // A forest fitted with balanced class weights learnt equal class priors: the mix estimate starts from those.
  if (stain?.mix && balanced) stain.mix.prior = used.map(() => 1 / used.length);
  const shapeForest = stain ? fitShapeForest(fitted.x, trainY, stain, dim, forestOptions) : null;
  const folds = input.calibrationFolds ?? (input.features === 'morphology' ? CALIBRATION_FOLDS : 0);
  const testX = split.test.length ? toMatrix(split.test) : null;
  const testTruth = split.test.map((i) => used.indexOf(input.labels[i]!));
  const sourceY = trainLabels.slice(0, sourceTrain.length);
  /**
   * A forest's calibration: on the held-out cells when there are any (their probabilities), else cross-fitted over the
   * training cells (the shipped file's testFraction 0: each cell scored by a forest fitted without it and its copies).
   */
  const calibrate = (testProba: Float64Array | null, fit: Pick<CrossFitInput, 'forest' | 'augmented' | 'always' | 'copies'>): ConfidenceCalibration | null => {
    if (testProba) return folds > 0 ? calibrateConfidence(testProba, used.length, testTruth, 'held-out') : null;
    return folds > 1 && sourceTrain.length >= folds * 2 ? crossFittedCalibration({ rows: sourceTrain, y: sourceY, folds, seed, ...fit }) : null;
  };
  const testProba = testX ? predictProba(forest, testX) : null;
  const heldOut = testProba ? classificationReport(split.test.map((i) => input.labels[i]!), Array.from(argmaxRows(testProba, used.length), (k) => used[k]!), { labels: used }) : null;
  const pos = new Map(split.train.map((r, i) => [r, i]));
  const calibration = calibrate(testProba, {
    forest: forestOptions, copies: recipe,
    augmented: { rows: augIdx.map((j) => input.augmented!.rows[j]!), of: augIdx.map((j) => pos.get(input.augmented!.of[j]!)!) },
    always: { rows: fitted.x.slice(trainRows.length), y: trainY.slice(trainRows.length) },
  });
  // The plain forest: the same settings and seed on the rows without the copies (the reviewed cells, if any, repeated
  // to carry their share of this smaller training weight), calibrated the way the forest is.
  let plain: { plainForest: RandomForest; plainCalibration: ConfidenceCalibration | null; profile: NonNullable<CellClassifier['profile']> } | null = null;
  if (augIdx.length > 0 && (input.plainForest ?? withStain)) {
    const plainCopies = reviewCopies(sourceTrain.length, reviewed.rows.length, reviewShare);
    const plainFitted = withReviewedRows(sourceTrain, sourceY, reviewed.rows, reviewedY, plainCopies);
    const plainOptions = { ...forestOptions, ...copyOptions(plainFitted.x.length, 0, 0, recipe) };
    const plainForest = fitRandomForest(matrixFromRows(plainFitted.x), plainFitted.y, plainOptions);
    const plainCalibration = calibrate(testX ? predictProba(plainForest, testX) : null, {
      forest: plainOptions, always: { rows: plainFitted.x.slice(sourceTrain.length), y: plainFitted.y.slice(sourceTrain.length) },
    });
    const columns = Array.from({ length: dim }, (_, c) => c);
    const profile = stainReference(input.stainRows ?? input.rows, sourceTrain, split.train.map((i) => input.labels[i]!), columns);
    plain = { plainForest, plainCalibration, profile };
  }
  // What a refit needs to fit these forests again (self-training.ts): the training split, its copies, as given.
  const trainingCells: TrainingCells | null = input.keepTrainingCells
    ? {
      rows: packRows32(sourceTrain, dim),
      labels: split.train.map((i) => input.labels[i]!),
      augmented: augIdx.length ? { rows: packRows32(augIdx.map((j) => input.augmented!.rows[j]!), dim), of: Int32Array.from(augIdx, (j) => pos.get(input.augmented!.of[j]!)!) } : null,
      stainRows: packRows32(input.stainRows ?? input.rows, dim),
      reviewed: reviewed.rows.length ? { rows: packRows32(reviewed.rows, dim), labels: [...reviewed.labels], share: reviewShare } : null,
      settings: { trees, maxDepth, minSamplesLeaf, maxFeatures, augmentWeight, plainTreeShare: plainShare, balanced, seed, stainColumns: input.stainColumns ? [...input.stainColumns] : null },
    }
    : null;
  return {
    classifier: {
      forest, novelty, classNames: used, classMap: input.classMap, features: input.features,
      encoderId: input.features === 'latent' ? (input.encoderId ?? null) : null,
      minConfidence: input.minConfidence ?? DEFAULT_MIN_CONFIDENCE, stain, shapeForest, calibration,
      ...(plain ?? {}),
      ...(trainingCells ? { trainingCells } : {}),
    },
    split,
    heldOut,
    reviewCopies: copies,
  };
}
