// Where a cell is classified: the classify stage. Given a classifier and its cells' feature rows (latents,
// or morphology measured by morphology.ts), it runs the stain step over the cells classified together
// (lab-classification.ts and engine/classifier/stain-steps.ts: the default is the step with the best worst-lab
// accuracy in docs/unseen-labs.md), the forest, the neighbour consensus (consensus-step.ts), the verdicts (a
// class, or a flag for cells unlike the training data or too uncertain) and the batch's self-check
// (docs/self-check.md): when it fails, every class the verdicts would have counted is withheld (flag reason
// SELF_CHECK). The classify and analyze jobs, the evaluation and the benchmark worker all classify through classifyCells.
import { classifyLatents, type CellClassifier, type CellVerdict } from '../engine/classifier/classifier-artifact.js';
import { predictProba } from '../engine/classifier/random-forest.js';
import { scoreNovelty } from '../engine/classifier/novelty.js';
import { applyOffsets } from '../engine/classifier/stain-shift.js';
import type { FeatureMatrix } from '../engine/classifier/feature-matrix.js';
import { decideStain, type StainAdaptation as AdaptiveMode, type StainOutcome } from './stain-step.js';
import { decideConsensus, type ConsensusOutcome } from './consensus-step.js';
import { checkBatch, classifyLab, type LabStainOutcome } from './lab-classification.js';
import { stainStepOf, type StainAdaptation } from '../engine/classifier/stain-steps.js';
import { selfCheckReason, type SelfCheck } from '../engine/classifier/self-check.js';
import { selfTrainLab, type SelfTrainingOutcome } from './self-training.js';

export interface ClassifyOptions {
  /**
   * Morphology classifiers: the stain step over these cells ('auto', default: DEFAULT_STAIN_STEP; 'off'; 'always':
   * adaptive at any shift; or a step by name, stain-steps.ts). Ignored when `offsets` is given.
   */
  stainAdaptation?: StainAdaptation;
  /**
   * Morphology classifiers: stain offsets measured before, for a few cells that are not a lab (an image of an analyze
   * job): the augmented forest, no stain step and no self-check (the caller checks the whole batch).
   */
  offsets?: ReadonlyMap<number, number>;
  /**
   * Morphology classifiers: the move for cells that are a whole lab, measured before (a lab whose reviewed cells
   * trained the classifier: engine/reviewed-stain.ts), applied instead of the stain step; the lab's views and self-check
   * run as for any lab. Ignored when `offsets` is given.
   */
  labMove?: { offsets: ReadonlyMap<number, number>; note: string };
  /** Average each cell's probabilities with its nearest neighbours' among these cells (morphology only). */
  consensus?: boolean;
  /**
   * Morphology classifiers carrying their training cells, cells that are a lab: fit the classifier again with the
   * lab's surest cells and classify it again (self-training.ts). Ignored when `offsets` is given.
   */
  selfTraining?: boolean;
  /**
   * Self-training: called after each tree of the refit (self-training.ts). A function, so it does not cross into
   * the classify worker: the worker passes its own, which reports to the job (cell-classifying.ts).
   */
  onSelfTrainingTree?: (done: number, total: number) => void;
}

export interface Classified {
  verdicts: CellVerdict[];
  /** rows x classes, after the consensus. */
  proba: Float64Array;
  /** Per row: 1 when the novelty model finds the cell unlike every training class. */
  novel: Uint8Array;
  /** The rows as the forest saw them (stain moved). */
  x: FeatureMatrix;
  /** Morphology classifiers measured here (no `offsets` given): what the stain step did. */
  stain: LabStainOutcome | null;
  /** The batch's check of its own count; null where `offsets` were given (analyze, image by image: it checks the whole job itself). */
  selfCheck: SelfCheck | null;
  /** Morphology classifiers, or consensus asked for: what the consensus did. */
  consensus: ConsensusOutcome | null;
  /** Self-training asked for: what it did, or why it was not applied. */
  selfTraining: SelfTrainingOutcome | null;
}

/** The adaptive stain step's offsets for these rows (the evaluation's morphology_adaptive; issue 5's rule). */
export function stainStep(clf: CellClassifier, x: FeatureMatrix, mode: AdaptiveMode = 'auto'): { stain: StainOutcome; offsets: Map<number, number> } {
  const rows = Array.from({ length: x.rows }, (_, r) => x.data.subarray(r * x.cols, (r + 1) * x.cols));
  return decideStain(clf, rows, mode);
}

export function classifyCells(clf: CellClassifier, x: FeatureMatrix, opts: ClassifyOptions = {}): Classified {
  const morphology = clf.features === 'morphology';
  const K = clf.classNames.length;
  let stain: LabStainOutcome | null = null;
  let moved = x;
  let proba: Float64Array;
  let consensus: ConsensusOutcome | null = null;
  let check: SelfCheck | null = null;
  let selfTraining: SelfTrainingOutcome | null = null;
  if (morphology && !opts.offsets) {
    // The cells classified together are one lab (or batch): its stain step, consensus and self-check.
    const { step, limit } = stainStepOf(opts.stainAdaptation);
    const rows = Array.from({ length: x.rows }, (_, r) => x.data.subarray(r * x.cols, (r + 1) * x.cols));
    const labOpts = { step, limit, mode: opts.stainAdaptation ?? 'auto', neighbourConsensus: opts.consensus ?? false, ...(opts.labMove ? { fixedMove: opts.labMove } : {}) };
    let lab = classifyLab(clf, rows, labOpts);
    if (opts.selfTraining) ({ lab, outcome: selfTraining } = selfTrainLab(clf, rows, lab, labOpts, { onTree: opts.onSelfTrainingTree }));
    ({ stain, consensus, proba, selfCheck: check } = lab);
    moved = lab.x;
  } else {
    const offsets = opts.offsets;
    if (morphology && offsets && offsets.size) {
      const data = Float64Array.from(x.data);
      for (let r = 0; r < x.rows; r++) applyOffsets(data, offsets, r * x.cols);
      moved = { data, rows: x.rows, cols: x.cols };
    }
    // Offsets measured before (analyze, image by image): always the augmented forest. The plain forest is chosen per
    // lab by measuring the lab (lab-classification.ts), which an image's few cells cannot do.
    proba = moved.rows ? predictProba(clf.forest, moved) : new Float64Array(0);
    // Latent classifiers say so only when consensus was asked for (their results are otherwise as before).
    if (morphology || opts.consensus) ({ consensus, proba } = decideConsensus(moved, proba, K, opts.consensus ?? false, clf.features));
    if (!morphology) check = checkBatch(clf, moved, proba);
  }
  const nov = moved.rows ? scoreNovelty(clf.novelty, moved) : null;
  const verdicts = nov ? classifyLatents(clf, moved, proba, nov) : [];
  // A failed self-check withholds every class the batch would have counted (the probabilities stay, for review).
  if (check?.status === 'failed') {
    const reason = selfCheckReason(check);
    for (const v of verdicts) if (!v.flagged) Object.assign(v, { label: null, flagged: true, reason });
  }
  return { verdicts, proba, novel: nov ? Uint8Array.from(nov.novel) : new Uint8Array(0), x: moved, stain, consensus, selfCheck: check, selfTraining };
}
