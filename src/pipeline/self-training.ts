// Self-training on a lab's own cells (issue 17; measured in training/classifier-exploration/README.md, "Session 11"):
// the lab is classified as usual (classifyLab); per predicted class, the share of its cells the forest is surest of
// joins the classifier's training cells under that class; the forests and the stain reference are fitted again (the
// reference over the training lab's cells and every cell of this lab, as a classifier trained on two labs takes it)
// and the lab is classified again through the same step. It lifts labs whose errors are one class read as another
// while the others are read well (BCCD -> Acevedo-20 54.0 -> 61.1 %, docs/unseen-labs-self-trained.md); it cannot lift a
// lab whose first labels are wrong for whole classes (the cells it is surest of teach the forest the same errors). That
// page's rule keeps it off by default (pipeline/defaults.ts, SELF_TRAINING_BY_DEFAULT).
//
// What stays the first classification's: the self-check (a refitted classifier's own calibration would be fitted
// over its own guesses, and let labs under 75 % through: 1-3 per forest seed there, none with the first check), the
// novelty flags (what is unlike the *training* cells), and the stain outcome (its offsets are the registered
// classifier's, which analyze jobs on the same lab apply).
import type { CellClassifier } from '../engine/classifier/classifier-artifact.js';
import { argmaxRows } from '../engine/classifier/random-forest.js';
import { unpackRows32 } from '../engine/classifier/training-cells.js';
import { trainCellClassifier } from './classifier-training.js';
import { classifyLab, MIN_STAIN_CELLS, type LabClassification, type LabClassifyOptions } from './lab-classification.js';

/** Per predicted class, this share of its cells (the surest) joins the training cells. Set before any figure was seen. */
export const SELF_TRAINING_SHARE = 0.4;

/** Fewer cells than this are not a lab to learn from (the stain step's own minimum). */
export const MIN_SELF_TRAINING_CELLS = MIN_STAIN_CELLS;

/** The job result's `selfTraining`. */
export interface SelfTrainingOutcome {
  applied: boolean;
  share: number;
  /** Cells that joined the training cells, per class (the first classification's class). */
  added: Record<string, number>;
  /** Cells whose most probable class differs from the first classification's. */
  changed: number;
  note: string;
}

/** Why a lab is not self-trained, or null when it is. */
export function selfTrainingBlocker(clf: CellClassifier, rows: number, first: LabClassification, opts: LabClassifyOptions): string | null {
  if (clf.features !== 'morphology') return 'only morphology classifiers self-train';
  if (!clf.trainingCells) return 'this classifier carries no training cells (trained before self-training existed, or a shipped classifier): train one with train-classifier to self-train';
  if (opts.fixedMove) return "the lab's move was measured from its reviewed cells, which the classifier was trained with";
  if (rows < MIN_SELF_TRAINING_CELLS) return `${rows} cells are too few to learn from (at least ${MIN_SELF_TRAINING_CELLS})`;
  if (first.stain.routing?.forest === 'plain') return 'the lab measures like the training cells (the plain forest read it): nothing to adapt to';
  return null;
}

/** Per predicted class, the `share` of its cells with the highest probability of that class (ties: in row order). */
export function surestCells(proba: Float64Array, K: number, share: number): { index: number[]; top: Int32Array } {
  const top = argmaxRows(proba, K);
  const index: number[] = [];
  for (let k = 0; k < K; k++) {
    const mine: number[] = [];
    top.forEach((t, i) => {
      if (t === k) mine.push(i);
    });
    mine.sort((a, b) => proba[b * K + k]! - proba[a * K + k]!);
    index.push(...mine.slice(0, Math.round(share * mine.length)));
  }
  return { index, top };
}

/** How one self-training runs: the share of each class's cells taken, and the refit's progress. */
export interface SelfTrainingRun {
  share?: number;
  /**
   * Called after each tree of the refitted augmented forest: the refit is most of self-training's time (11 s at the
   * shipped classifier's size, scripts/self-training-timing.ts), time in which a job would otherwise report nothing.
   */
  onTree?: (done: number, total: number) => void;
}

/**
 * Self-trains `clf` on the lab classified as `first` (classifyLab with `opts`) and classifies it again. Returns the
 * lab's classification (the refitted forests' probabilities; the first's self-check, novelty and stain outcome) and
 * what was done; a lab that cannot be self-trained comes back as `first`, with the reason.
 */
export function selfTrainLab(
  clf: CellClassifier, rows: readonly ArrayLike<number>[], first: LabClassification, opts: LabClassifyOptions = {},
  { share = SELF_TRAINING_SHARE, onTree }: SelfTrainingRun = {},
): { lab: LabClassification; outcome: SelfTrainingOutcome } {
  const blocker = selfTrainingBlocker(clf, rows.length, first, opts);
  if (blocker) return { lab: first, outcome: { applied: false, share, added: {}, changed: 0, note: `self-training not applied: ${blocker}` } };
  const tc = clf.trainingCells!;
  const K = clf.classNames.length;
  const { index, top } = surestCells(first.proba, K, share);
  const s = tc.settings;
  const refit = trainCellClassifier({
    rows: [...unpackRows32(tc.rows), ...index.map((i) => rows[i]!)],
    labels: [...tc.labels, ...index.map((i) => clf.classNames[top[i]!]!)],
    stainRows: [...unpackRows32(tc.stainRows), ...rows],
    ...(tc.augmented ? { augmented: { rows: unpackRows32(tc.augmented.rows), of: Array.from(tc.augmented.of) } } : {}),
    ...(tc.reviewed ? { reviewed: { rows: unpackRows32(tc.reviewed.rows), labels: tc.reviewed.labels, share: tc.reviewed.share } } : {}),
    ...(s.stainColumns ? { stainColumns: s.stainColumns } : {}),
    classNames: clf.classNames, features: 'morphology', classMap: clf.classMap, minConfidence: clf.minConfidence,
    trees: s.trees, maxDepth: s.maxDepth, minSamplesLeaf: s.minSamplesLeaf, maxFeatures: s.maxFeatures, augmentWeight: s.augmentWeight,
    plainTreeShare: s.plainTreeShare, balanced: s.balanced, seed: s.seed,
    // Only the forests that read the lab again: its self-check stays the first's (no calibration), and it was not
    // routed to the plain forest (selfTrainingBlocker).
    testFraction: 0, calibrationFolds: 0, plainForest: false,
    ...(onTree ? { onTree } : {}),
  }).classifier;
  // The lab's cells join under the classes they were given, all of them among the training cells': the same classes.
  if (refit.classNames.join() !== clf.classNames.join()) throw new Error(`self-training: the refitted classes (${refit.classNames.join(', ')}) are not the classifier's`);
  const second = classifyLab(refit, rows, { ...opts, routeLimit: null });
  const changed = second.views.reported!.reduce((n, k, i) => n + (k === first.views.reported![i] ? 0 : 1), 0);
  const added: Record<string, number> = {};
  for (const i of index) added[clf.classNames[top[i]!]!] = (added[clf.classNames[top[i]!]!] ?? 0) + 1;
  const pct = Math.round(100 * share);
  const note =
    `self-training: the ${index.length} cells the forest was surest of (${pct} % of each class's: ${Object.entries(added).map(([c, n]) => `${c} ${n}`).join(', ')}) ` +
    `joined the training cells under their class, the forests were fitted again and the lab classified again (${changed} of ${rows.length} cells changed class); ` +
    'the self-check and the novelty flags are the first classification\'s';
  return {
    lab: {
      ...first,
      proba: second.proba,
      consensus: second.consensus,
      views: { ...first.views, reported: second.views.reported! },
    },
    outcome: { applied: true, share, added, changed, note },
  };
}
