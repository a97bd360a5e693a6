// A trained cell classifier as one file: the random forest, the novelty model that flags cells unlike the
// training data, the class names, and what it reads of a cell: the latents of one encoder, or the cell's
// morphology (src/imaging/cell-morphology.ts).
import { forestFromJson, forestToJson } from './forest-json.js';
import { noveltyFromJson, noveltyToJson, scoreNovelty, type NoveltyModel, type NoveltyScores } from './novelty.js';
import { predictProba, type RandomForest } from './random-forest.js';
import type { FeatureMatrix } from './feature-matrix.js';
import { MIX_QUANTILES, type StainMix, type StainReference } from './stain-shift.js';
import { calibrationFromJson, type ConfidenceCalibration } from './accuracy-estimate.js';
import { trainingCellsFromJson, trainingCellsToJson, type TrainingCells } from './training-cells.js';

export const CLASSIFIER_FORMAT = 'leukograph.classifier';

/**
 * What a classifier reads of a cell: the autoencoder's latent (AE-CFE), or the stain-normalised morphology
 * of its crop (src/imaging/cell-morphology.ts), which carries across labs better (docs/results.md).
 */
export type ClassifierFeatures = 'latent' | 'morphology';

export interface CellClassifier {
  forest: RandomForest;
  novelty: NoveltyModel;
  classNames: string[];
  classMap: string;
  /** 'latent' (files written before the option existed) or 'morphology'. */
  features: ClassifierFeatures;
  /** The autoencoder whose latents this classifier was trained on; null for morphology. */
  encoderId: string | null;
  /** Below this top probability a cell is flagged instead of given a class. */
  minConfidence: number;
  /**
   * Morphology classifiers: the training cells' stain reference (src/engine/classifier/stain-shift.ts), per
   * stain-dependent column: the median over the training cells and the within-class standard deviation. A
   * classify job moves another lab's values onto these medians when its shift exceeds the limit. Absent in
   * files written before it existed (no adaptation then).
   */
  stain?: StainReference | null;
  /**
   * Morphology classifiers: a forest on the stain-free columns alone (src/engine/classifier/stain-mix-forest.ts),
   * which estimates another lab's class mix before its stain is moved. Absent in older files (a lab is then moved
   * onto the plain training medians).
   */
  shapeForest?: RandomForest | null;
  /**
   * How this forest's confidence maps to accuracy, measured on cells it did not train on (accuracy-estimate.ts):
   * the self-check holds a lab's estimated accuracy against its limits through it. Absent in files written before
   * it existed: the check then holds the mean confidence against fixed limits (self-check.ts).
   */
  calibration?: ConfidenceCalibration | null;
  /**
   * Morphology classifiers trained with augmented copies: a second forest on the training cells alone (no copies),
   * more accurate on cells like the training lab's and weaker elsewhere (docs/forest-recipe.md, "Routing, built"). A
   * lab whose morphology measures like the training cells' (`profile`) is classified by it (lab-classification.ts).
   * Absent in older files, which never route.
   */
  plainForest?: RandomForest | null;
  /** The plain forest's own confidence calibration (its confidence is on another scale than the forest's). */
  plainCalibration?: ConfidenceCalibration | null;
  /**
   * What routing measures a lab against: per morphology column (all of them, not only the stain's), the median over
   * the training lab's cells and the within-class standard deviation over its training split.
   */
  profile?: StainReference | null;
  /**
   * Morphology classifiers trained since self-training existed (training-cells.ts): the cells and settings they were
   * fitted with, so that a classify job can fit them again with a lab's own surest cells (src/pipeline/self-training.ts).
   * Absent in older files and in the shipped ones (models/*.md say why): such a classifier cannot self-train.
   */
  trainingCells?: TrainingCells | null;
}

export interface CellVerdict {
  label: string | null;
  probabilities: Record<string, number>;
  flagged: boolean;
  reason: string | null;
}

export function classifierToJson(c: CellClassifier): string {
  return JSON.stringify({
    format: CLASSIFIER_FORMAT, version: 1, classNames: c.classNames, classMap: c.classMap, features: c.features, encoderId: c.encoderId, minConfidence: c.minConfidence,
    ...(c.stain ? { stain: c.stain } : {}),
    ...(c.shapeForest ? { shapeForest: JSON.parse(forestToJson(c.shapeForest)) } : {}),
    ...(c.calibration ? { calibration: c.calibration } : {}),
    ...(c.plainForest ? { plainForest: JSON.parse(forestToJson(c.plainForest)) } : {}),
    ...(c.plainCalibration ? { plainCalibration: c.plainCalibration } : {}),
    ...(c.profile ? { profile: c.profile } : {}),
    ...(c.trainingCells ? { trainingCells: trainingCellsToJson(c.trainingCells) } : {}),
    forest: JSON.parse(forestToJson(c.forest)), novelty: JSON.parse(noveltyToJson(c.novelty)),
  });
}

export function classifierFromJson(text: string): CellClassifier {
  const v = JSON.parse(text) as Record<string, unknown>;
  if (v.format !== CLASSIFIER_FORMAT || v.version !== 1) throw new Error('not a leukograph classifier file (version 1)');
  const stain = stainFromJson(v.stain);
  // The class mix is estimated in the forest's class order: any other order would weigh the wrong classes.
  if (stain?.mix && JSON.stringify(stain.mix.classes) !== JSON.stringify(v.classNames)) throw new Error('classifier file: the stain reference\'s classes are not the classifier\'s');
  return {
    forest: forestFromJson(JSON.stringify(v.forest)), novelty: noveltyFromJson(JSON.stringify(v.novelty)), classNames: v.classNames as string[],
    classMap: String(v.classMap), features: v.features === 'morphology' ? 'morphology' : 'latent',
    encoderId: v.encoderId === null || v.encoderId === undefined ? null : String(v.encoderId), minConfidence: Number(v.minConfidence),
    stain,
    shapeForest: optionalForest(v.shapeForest),
    calibration: calibrationFromJson(v.calibration),
    plainForest: optionalForest(v.plainForest),
    plainCalibration: calibrationFromJson(v.plainCalibration),
    profile: stainFromJson(v.profile),
    trainingCells: trainingCellsFromJson(v.trainingCells, v.classNames as string[]),
  };
}

/** A forest a file may leave out (older files): null when absent. */
const optionalForest = (v: unknown): RandomForest | null => (v === undefined || v === null ? null : forestFromJson(JSON.stringify(v)));

const finiteNumbers = (a: unknown): a is number[] => Array.isArray(a) && a.every((x) => typeof x === 'number' && Number.isFinite(x));

function stainFromJson(v: unknown): StainReference | null {
  if (v === undefined || v === null) return null;
  const s = v as Partial<StainReference>;
  if (!finiteNumbers(s.columns) || !finiteNumbers(s.medians) || !finiteNumbers(s.spread) || s.medians.length !== s.columns.length || s.spread.length !== s.columns.length) {
    throw new Error('classifier file: malformed stain reference');
  }
  return { columns: s.columns, medians: s.medians, spread: s.spread, ...(s.mix === undefined ? {} : { mix: stainMixFromJson(s.mix, s.columns.length) }) };
}

function stainMixFromJson(v: unknown, columns: number): StainMix {
  const m = v as Partial<StainMix>;
  const ok =
    Array.isArray(m.classes) && m.classes.every((c) => typeof c === 'string') && finiteNumbers(m.prior) && m.prior.length === m.classes.length &&
    Array.isArray(m.quantiles) && m.quantiles.length === m.classes.length &&
    m.quantiles.every((perClass) => Array.isArray(perClass) && (perClass.length === 0 || (perClass.length === columns && perClass.every((q) => finiteNumbers(q) && q.length === MIX_QUANTILES))));
  if (!ok) throw new Error('classifier file: malformed stain reference (class mix)');
  return { classes: m.classes!, prior: m.prior!, quantiles: m.quantiles! };
}

/**
 * Why a cell gets no class, in the order the product checks: far from every training class (novelty score > 1)
 * first, then a top probability under minConfidence; null when it gets one. The unseen-labs evaluation's per-cell
 * flag shares use it too (scoreLab: classifyLab stops before the verdicts).
 */
export function flagKind(novel: boolean, top: number, minConfidence: number): 'novel' | 'low_confidence' | null {
  return novel ? 'novel' : top < minConfidence ? 'low_confidence' : null;
}

/**
 * Classifies cells from their feature rows (latents or morphology, as the classifier was trained). A cell is flagged, and gets no class, when it lies far from every training class
 * (novelty score > 1) or when the forest's top probability is below minConfidence. `proba` (rows x classes): the
 * forest's probabilities when the caller has already computed (and perhaps revised) them; `nov`, likewise the novelty scores.
 * The classify stage (src/pipeline/classify.ts) is the one caller in the product.
 */
export function classifyLatents(c: CellClassifier, x: FeatureMatrix, proba: ArrayLike<number> = predictProba(c.forest, x), nov: NoveltyScores = scoreNovelty(c.novelty, x)): CellVerdict[] {
  if (proba.length !== x.rows * c.classNames.length) throw new Error(`classify: ${proba.length} probabilities for ${x.rows} cells x ${c.classNames.length} classes`);
  const K = c.classNames.length;
  const out: CellVerdict[] = [];
  for (let i = 0; i < x.rows; i++) {
    const probabilities: Record<string, number> = {};
    let best = 0;
    for (let k = 0; k < K; k++) {
      probabilities[c.classNames[k]] = proba[i * K + k];
      if (proba[i * K + k] > proba[i * K + best]) best = k;
    }
    const top = proba[i * K + best];
    const kind = flagKind(nov.novel[i] === 1, top, c.minConfidence);
    const reason =
      kind === 'novel' ? `unlike the training cells (novelty score ${nov.score[i].toFixed(2)} > 1)`
      : kind === 'low_confidence' ? `low confidence (${top.toFixed(2)} < ${c.minConfidence})`
      : null;
    out.push({ label: reason ? null : c.classNames[best], probabilities, flagged: reason !== null, reason });
  }
  return out;
}
