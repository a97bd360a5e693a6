// The review loop, simulated with a lab's own labels standing in for the reviewer: a morphology classifier
// trained on the source lab as the train-classifier job trains it, the lab classified as the classify job
// classifies it (stain step, flags), the queue (src/services/review-order.ts) or a random order picks the next
// cells, their lab labels become reviews, the classifier is retrained with them (the pipeline's
// trainCellClassifier with src/pipeline/reviewed-cells.ts, as trainClassifier(reviewedDatasetIds) does) and
// scored on the cells nobody reviewed.
import { fitRandomForest, predictProba, argmaxRows } from '../../src/engine/classifier/random-forest.js';
import { matrixFromRows } from '../../src/engine/classifier/feature-matrix.js';
import type { CellClassifier } from '../../src/engine/classifier/classifier-artifact.js';
import { applyOffsets } from '../../src/engine/classifier/stain-shift.js';
import { trainCellClassifier } from '../../src/pipeline/classifier-training.js';
import { classifyCells } from '../../src/pipeline/classify.js';
import { DEFAULT_REVIEW_SHARE } from '../../src/pipeline/defaults.js';
import { COMMON5 } from '../../src/pipeline/class-maps.js';
import { classMedians, reviewedStainOffsets, REVIEWED_STAIN_MOVE, REVIEWED_STAIN_PRIOR } from '../../src/pipeline/reviewed-cells.js';
import { MORPHOLOGY_COLOUR_COLUMNS } from '../../src/imaging/cell-morphology.js';
import { orderReviewQueue } from '../../src/services/review-order.js';
import { createRng, mixSeed, shuffleInPlace } from '../../src/engine/classifier/rng.js';

export interface Lab {
  name: string;
  labels: string[];
  x: number[][];
  /** The source: its cells' augmented copies per job seed (features.ts), as the train-classifier job makes them. */
  augmented?: Array<{ seed: number; copies: number; of: number[]; x: number[][] }>;
}

/** The source's augmented copies for a job seed; an error when the features file has none for it. */
export function augmentedFor(source: Lab, seed: number): { rows: number[][]; of: number[] } {
  const set = source.augmented?.find((a) => a.seed === seed);
  if (!set) throw new Error(`the features file has no augmented copies of ${source.name} for seed ${seed} (extract.js --augment-seeds; or run without augmentation: --no-augment)`);
  return { rows: set.x, of: set.of };
}

const CLASSES: string[] = [...COMMON5];

/**
 * A morphology classifier as the train-classifier job fits one: the pipeline's trainCellClassifier with
 * testFraction 0 (every source cell trains it), with the source cells' augmented copies (`augmented`: the job's
 * training-time augmentation, made with the job's seed; none when undefined), the reviewed rows (already moved
 * onto the source's stain by their lab's offsets; not augmented, as in the job) joining the training rows,
 * repeated to weigh `share` of all training rows (augmented copies included), the stain reference the source's alone.
 */
export function fitMorphologyClassifier(source: Lab, reviewed: { x: number[][]; labels: string[] }, seed: number, share = DEFAULT_REVIEW_SHARE, augmented?: { rows: number[][]; of: number[] }): CellClassifier {
  return trainCellClassifier({
    rows: source.x, labels: source.labels, classNames: CLASSES, features: 'morphology', classMap: 'common5',
    reviewed: { rows: reviewed.x, labels: reviewed.labels, share }, seed, testFraction: 0, augmented,
  }).classifier;
}

/**
 * The classify job on a whole lab (the pipeline's classifyCells: stain step AUTO, or the given offsets, then
 * forest and verdicts); the offsets it used and the rows as the forest saw them.
 */
export function classifyLab(clf: CellClassifier, rows: number[][], fixed?: Map<number, number>): { proba: Float64Array; pred: string[]; flagged: boolean[]; offsets: Map<number, number>; moved: Float64Array[] } {
  // A reviewed lab's move, as the classify job passes it (classify.handler.ts): the lab's views and self-check still run.
  const c = classifyCells(clf, matrixFromRows(rows), { stainAdaptation: 'auto', ...(fixed ? { labMove: { offsets: fixed, note: 'the reviewed cells\' move' } } : {}) });
  const offsets = fixed ?? new Map<number, number>(c.stain?.offsets ?? []);
  const K = clf.classNames.length;
  const moved = Array.from({ length: c.x.rows }, (_, r) => Float64Array.from(c.x.data.subarray(r * c.x.cols, (r + 1) * c.x.cols)));
  const best = argmaxRows(c.proba, K);
  return { proba: c.proba, pred: Array.from(best, (k) => clf.classNames[k]!), flagged: c.verdicts.map((v) => v.flagged), offsets, moved };
}

export type Order = 'queue' | 'random';

export interface LoopPoint {
  reviews: number;
  /** Accuracy on the lab's cells not reviewed (the top class, flagged or not). */
  accuracy: number;
  n: number;
  correct: number;
}

/**
 * One run: 0 reviews, then reviews added in steps up to each budget, the classifier retrained after each step
 * and the next step's cells picked with the retrained classifier's verdicts (queue) or at random.
 */
export interface LoopOptions {
  /** Share of the training weight of the reviewed cells. Default DEFAULT_REVIEW_SHARE. */
  share?: number;
  /**
   * What the queue spreads the picks over: the cells' probabilities (what the server uses for cells without
   * latents: a morphology classifier's) or their stain-moved morphology values. Default 'probabilities'.
   */
  embedding?: 'probabilities' | 'morphology';
  uncertaintyPower?: number;
  distanceCap?: number;
  /**
   * 'job': the classify job's move; 'adaptive': the adaptive step's (an experiment); 'select' (an experiment, not
   * the product's path): after each round of reviews, whichever move of none / centred / adaptive / prior_mix /
   * the reviewed cells' own (reviewedStainOffsets, no pooling) lets the source-only classifier give the reviewed
   * cells their classes most often (ties: that order, the job's move first).
   */
  reviewMove?: 'job' | 'adaptive' | 'select';
  /**
   * How a retrained classifier treats the lab's stain: 'lab' moves it by the offsets the lab's first classify
   * job measured (those its reviewed cells were moved by: what a classify job does, src/engine/reviewed-stain.ts),
   * 'measure' measures it again with the retrained classifier (what it did before; unstable). Default 'lab'.
   */
  stain?: 'lab' | 'measure';
  /**
   * Where the lab's move comes from once it has reviews: 'labelled' (the reviewed cells' distance from the
   * source's class medians pooled with the classify job's move, src/pipeline/reviewed-cells.ts) or 'job' (the
   * classify job's move alone). Default: the product's, REVIEWED_STAIN_MOVE.
   */
  reviewStain?: 'labelled' | 'job';
  /** Pseudo-reviews the classify job's move weighs against the reviewed cells'. Default REVIEWED_STAIN_PRIOR. */
  stainPrior?: number;
  /**
   * Train with the source's augmented copies made with this run's seed (the product's path: MORPHOLOGY_AUGMENT_COPIES;
   * the features file must hold them). Default true; false: without augmentation (the bench before it).
   */
  augment?: boolean;
}

export function runLoop(source: Lab, lab: Lab, budgets: readonly number[], order: Order, seed: number, opts: LoopOptions = {}): LoopPoint[] {
  const share = opts.share ?? DEFAULT_REVIEW_SHARE;
  const reviewedIdx: number[] = [];
  const isReviewed = new Uint8Array(lab.x.length);
  const rng = createRng(mixSeed(seed, 7919));
  const randomOrder = shuffleInPlace(lab.x.map((_, i) => i), rng);
  const points: LoopPoint[] = [];
  const sourceMedians = classMedians(source.x, source.labels, MORPHOLOGY_COLOUR_COLUMNS);
  const augmented = (opts.augment ?? true) ? augmentedFor(source, seed) : undefined;
  // The offsets the base classifier's classify job measured: what moves reviewed cells onto the source's stain.
  let clf = fitMorphologyClassifier(source, { x: [], labels: [] }, seed, share, augmented);
  let run = classifyLab(clf, lab.x);
  // 'job': the offsets the lab's classify job reports (what trainClassifier takes: the default step's primary move);
  // 'adaptive': the adaptive step's over the same cells (an experiment, --review-move adaptive).
  const labOffsets = opts.reviewMove === 'adaptive'
    ? new Map<number, number>(classifyCells(clf, matrixFromRows(lab.x), { stainAdaptation: 'adaptive' }).stain?.offsets ?? [])
    : run.offsets;
  const base = clf;
  const stepMoves = opts.reviewMove === 'select'
    ? (['off', 'centred', 'adaptive', 'prior_mix'] as const).map((step) => new Map<number, number>(classifyCells(base, matrixFromRows(lab.x), { stainAdaptation: step }).stain?.offsets ?? []))
    : [];
  const score = (reviews: number) => {
    let n = 0;
    let correct = 0;
    run.pred.forEach((p, i) => {
      if (isReviewed[i]) return;
      n++;
      if (p === lab.labels[i]) correct++;
    });
    points.push({ reviews, accuracy: correct / n, n, correct });
  };
  score(0);
  for (const budget of budgets) {
    const more = budget - reviewedIdx.length;
    if (more > 0) {
      const candidates = lab.x.flatMap((_, i) => (isReviewed[i] ? [] : [i]));
      let picks: number[];
      if (order === 'random') picks = randomOrder.filter((i) => !isReviewed[i]).slice(0, more);
      else {
        const K = clf.classNames.length;
        const embed = (i: number) => (opts.embedding === 'morphology' ? run.moved[i]! : run.proba.subarray(i * K, (i + 1) * K));
        const q = orderReviewQueue(
          candidates.map((i) => ({ probabilities: run.proba.subarray(i * K, (i + 1) * K), flagged: run.flagged[i], embedding: embed(i) })),
          { first: more, reviewed: reviewedIdx.map(embed), uncertaintyPower: opts.uncertaintyPower, distanceCap: opts.distanceCap },
        );
        picks = q.map((e) => candidates[e.index]!);
      }
      for (const i of picks) {
        reviewedIdx.push(i);
        isReviewed[i] = 1;
      }
    }
    const labels = reviewedIdx.map((i) => lab.labels[i]!);
    // The move the train-classifier job gives this lab's reviewed cells and keeps for its classify jobs.
    const offsets = opts.reviewMove === 'select'
      ? selectMove(base, reviewedIdx.map((i) => lab.x[i]!), labels, [labOffsets, ...stepMoves, reviewedStainOffsets({ rows: reviewedIdx.map((i) => lab.x[i]!), labels }, sourceMedians, MORPHOLOGY_COLOUR_COLUMNS, labOffsets, 0).offsets])
      : (opts.reviewStain ?? REVIEWED_STAIN_MOVE) === 'labelled'
      ? reviewedStainOffsets({ rows: reviewedIdx.map((i) => lab.x[i]!), labels }, sourceMedians, MORPHOLOGY_COLOUR_COLUMNS, labOffsets, opts.stainPrior ?? REVIEWED_STAIN_PRIOR).offsets
      : labOffsets;
    const moved = reviewedIdx.map((i) => {
      const v = Float64Array.from(lab.x[i]!);
      applyOffsets(v, offsets);
      return Array.from(v);
    });
    clf = fitMorphologyClassifier(source, { x: moved, labels }, seed, share, augmented);
    run = classifyLab(clf, lab.x, (opts.stain ?? 'lab') === 'lab' ? offsets : undefined);
    score(budget);
  }
  return points;
}

/** Of the candidate moves, the one under which the classifier gives the reviewed cells their classes most often (first on ties). */
function selectMove(clf: CellClassifier, rows: number[][], labels: string[], candidates: Map<number, number>[]): Map<number, number> {
  let best = candidates[0]!;
  let bestRight = -1;
  for (const c of candidates) {
    const moved = rows.map((r) => {
      const v = Float64Array.from(r);
      applyOffsets(v, c);
      return Array.from(v);
    });
    const pred = argmaxRows(predictProba(clf.forest, matrixFromRows(moved)), clf.classNames.length);
    const right = labels.reduce((a, l, i) => a + (clf.classNames[pred[i]!] === l ? 1 : 0), 0);
    if (right > bestRight) [best, bestRight] = [c, right];
  }
  return best;
}

/** The ceiling: k-fold cross-validation of a forest on the lab's own labelled cells, same values, same settings. */
export function ceiling(lab: Lab, seed: number, folds = 5): { accuracy: number; n: number; correct: number } {
  const y = lab.labels.map((l) => CLASSES.indexOf(l));
  // Stratified folds: each class's cells dealt round-robin after a seeded shuffle.
  const fold = new Int32Array(y.length);
  const rng = createRng(mixSeed(seed, 104729));
  for (const k of new Set(y)) {
    const idx = shuffleInPlace(y.flatMap((v, i) => (v === k ? [i] : [])), rng);
    idx.forEach((i, j) => (fold[i] = j % folds));
  }
  let correct = 0;
  for (let f = 0; f < folds; f++) {
    const train = y.flatMap((_, i) => (fold[i] !== f ? [i] : []));
    const test = y.flatMap((_, i) => (fold[i] === f ? [i] : []));
    const forest = fitRandomForest(matrixFromRows(train.map((i) => lab.x[i]!)), train.map((i) => y[i]!), { nEstimators: 100, maxDepth: 16, seed, numClasses: CLASSES.length });
    const pred = argmaxRows(predictProba(forest, matrixFromRows(test.map((i) => lab.x[i]!))), CLASSES.length);
    test.forEach((i, j) => (correct += pred[j] === y[i] ? 1 : 0));
  }
  return { accuracy: correct / y.length, n: y.length, correct };
}
