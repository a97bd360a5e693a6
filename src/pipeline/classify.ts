// Where a cell is classified: the classify stage. Given a classifier and its cells' feature rows (latents,
// or morphology measured by morphology.ts), it runs the stain step (stain-step.ts: a morphology
// classifier's cells moved onto the training stain when their lab's differs by more than a class mix
// explains), the forest, the neighbour consensus (consensus-step.ts) and the verdicts (a class, or a flag
// for cells unlike the training data or too uncertain). The classify and analyze jobs, the evaluation and
// the benchmark worker all classify through classifyCells.
import { classifyLatents, type CellClassifier, type CellVerdict } from '../engine/classifier/classifier-artifact.js';
import { predictProba } from '../engine/classifier/random-forest.js';
import { scoreNovelty } from '../engine/classifier/novelty.js';
import { applyOffsets } from '../engine/classifier/stain-shift.js';
import type { FeatureMatrix } from '../engine/classifier/feature-matrix.js';
import { decideStain, type StainAdaptation, type StainOutcome } from './stain-step.js';
import { decideConsensus, type ConsensusOutcome } from './consensus-step.js';

export interface ClassifyOptions {
  /**
   * Morphology classifiers: the stain step over these cells ('auto', default: moved when the shift exceeds
   * the limit; 'off'; 'always'). Ignored when `offsets` is given.
   */
  stainAdaptation?: StainAdaptation;
  /** Morphology classifiers: stain offsets measured before (analyze takes its dataset's last classify job's). */
  offsets?: ReadonlyMap<number, number>;
  /** Average each cell's probabilities with its nearest neighbours' among these cells (morphology only). */
  consensus?: boolean;
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
  stain: StainOutcome | null;
  /** Morphology classifiers, or consensus asked for: what the consensus did. */
  consensus: ConsensusOutcome | null;
}

/** The stain step's offsets for these rows (morphology classifiers; empty otherwise). */
export function stainStep(clf: CellClassifier, x: FeatureMatrix, mode: StainAdaptation = 'auto'): { stain: StainOutcome; offsets: Map<number, number> } {
  const rows = Array.from({ length: x.rows }, (_, r) => x.data.subarray(r * x.cols, (r + 1) * x.cols));
  return decideStain(clf, rows, mode);
}

export function classifyCells(clf: CellClassifier, x: FeatureMatrix, opts: ClassifyOptions = {}): Classified {
  const morphology = clf.features === 'morphology';
  let stain: StainOutcome | null = null;
  let offsets = opts.offsets;
  if (morphology && !offsets) ({ stain, offsets } = stainStep(clf, x, opts.stainAdaptation ?? 'auto'));
  let moved = x;
  if (morphology && offsets && offsets.size) {
    const data = Float64Array.from(x.data);
    for (let r = 0; r < x.rows; r++) applyOffsets(data, offsets, r * x.cols);
    moved = { data, rows: x.rows, cols: x.cols };
  }
  const K = clf.classNames.length;
  let proba = moved.rows ? predictProba(clf.forest, moved) : new Float64Array(0);
  let consensus: ConsensusOutcome | null = null;
  // Latent classifiers say so only when consensus was asked for (their results are otherwise as before).
  if (morphology || opts.consensus) ({ consensus, proba } = decideConsensus(moved, proba, K, opts.consensus ?? false, clf.features));
  const nov = moved.rows ? scoreNovelty(clf.novelty, moved) : null;
  const verdicts = nov ? classifyLatents(clf, moved, proba, nov) : [];
  return { verdicts, proba, novel: nov ? Uint8Array.from(nov.novel) : new Uint8Array(0), x: moved, stain, consensus };
}
