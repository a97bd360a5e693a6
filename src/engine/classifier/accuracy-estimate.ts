// A lab's accuracy estimated from its unlabelled cells' class probabilities, against a calibration made on cells
// the forest did not train on (docs/self-check.md, "The confidence check, calibrated"). Each forest's confidence
// scale is its own (augmented or not, 200 cells per class or 6,000), so the self-check's confidence limit is held
// as an accuracy, through that forest's own calibration, instead of as a fixed mean probability.
//   doc          mean top probability moved by the calibration cells' accuracy less their mean top probability
//                (difference of confidences, Guillory et al. 2021, ICCV)
//   atc_max      share of cells whose top probability exceeds t, t chosen on the calibration cells so that the
//                share above it equals their accuracy (average thresholded confidence, Garg et al., ICLR 2022)
//   atc_entropy  the same with the negative entropy of the probabilities as the score (the paper's ATC-NE)

export const ACCURACY_ESTIMATORS = ['doc', 'atc_max', 'atc_entropy'] as const;
export type AccuracyEstimator = (typeof ACCURACY_ESTIMATORS)[number];

/** How a verdict's note names each. */
export const ESTIMATOR_NAMES: Record<AccuracyEstimator, string> = { doc: 'difference of confidences', atc_max: 'ATC', atc_entropy: 'ATC on entropy' };

/** What the self-check holds against its limits (chosen on the selection labs of docs/unseen-labs.md). */
export const DEFAULT_ACCURACY_ESTIMATOR: AccuracyEstimator = 'atc_max';

/**
 * Fewer calibration cells than this and the self-check falls back to the fixed limits: ATC's threshold then moves
 * by 2 points or more per cell (a 45-cell training set holds out 9).
 */
export const MIN_CALIBRATION_CELLS = 50;

/** What a classifier file keeps of its calibration cells. */
export interface ConfidenceCalibration {
  /** 'held-out': the training split's test cells; 'cross-fitted': each training cell by a forest fitted without it (and its copies). */
  source: 'held-out' | 'cross-fitted';
  cells: number;
  /** The calibration cells' accuracy (argmax against their labels). */
  accuracy: number;
  /** Their mean top probability. */
  meanConfidence: number;
  /** ATC thresholds: the share of calibration cells scoring above each equals `accuracy`. */
  thresholdMax: number;
  thresholdEntropy: number;
}

export type AccuracyEstimates = Record<AccuracyEstimator, number>;

/** Per row of a rows x k probability matrix: the top probability and the negative entropy (natural log). */
export function confidenceScores(proba: ArrayLike<number>, k: number): { max: Float64Array; entropy: Float64Array } {
  const rows = Math.floor(proba.length / k);
  const max = new Float64Array(rows);
  const entropy = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let top = 0;
    let ne = 0;
    for (let c = 0; c < k; c++) {
      const p = proba[r * k + c]!;
      if (p > top) top = p;
      if (p > 0) ne += p * Math.log(p);
    }
    max[r] = top;
    entropy[r] = ne;
  }
  return { max, entropy };
}

/**
 * The threshold t with share(score > t) as close to `share` as the scores allow: halfway between the score ranked
 * round(share * n) from the top and the next. Ties (a forest gives many cells the same top probability) can keep
 * the share above t off `share` by the tied cells; the estimate then carries that bias on every lab alike.
 */
export function thresholdForShare(scores: ArrayLike<number>, share: number): number {
  const s = Float64Array.from(scores).sort().reverse();
  const n = s.length;
  if (!n) throw new Error('thresholdForShare: no scores');
  const m = Math.round(Math.min(1, Math.max(0, share)) * n);
  if (m <= 0) return s[0]!;
  if (m >= n) return s[n - 1]! - 1e-9;
  return (s[m - 1]! + s[m]!) / 2;
}

const shareAbove = (scores: ArrayLike<number>, t: number) => {
  let above = 0;
  for (let i = 0; i < scores.length; i++) if (scores[i]! > t) above++;
  return scores.length ? above / scores.length : 0;
};

/** The calibration of a forest from cells it did not train on: their probabilities (rows x k) and true class indices. */
export function calibrateConfidence(proba: ArrayLike<number>, k: number, truth: ArrayLike<number>, source: ConfidenceCalibration['source']): ConfidenceCalibration {
  const { max, entropy } = confidenceScores(proba, k);
  if (max.length !== truth.length) throw new Error(`calibrateConfidence: ${max.length} probability rows, ${truth.length} labels`);
  if (!max.length) throw new Error('calibrateConfidence: no calibration cells');
  let right = 0;
  let conf = 0;
  for (let r = 0; r < max.length; r++) {
    let best = 0;
    for (let c = 1; c < k; c++) if (proba[r * k + c]! > proba[r * k + best]!) best = c;
    if (best === truth[r]) right++;
    conf += max[r]!;
  }
  const accuracy = right / max.length;
  return {
    source, cells: max.length, accuracy, meanConfidence: conf / max.length,
    thresholdMax: thresholdForShare(max, accuracy), thresholdEntropy: thresholdForShare(entropy, accuracy),
  };
}

/** Every estimator's accuracy estimate for a lab's cells (rows x k probabilities); each in [0, 1]. */
export function estimateAccuracy(cal: ConfidenceCalibration, proba: ArrayLike<number>, k: number): AccuracyEstimates {
  const { max, entropy } = confidenceScores(proba, k);
  let conf = 0;
  for (const v of max) conf += v;
  const mean = max.length ? conf / max.length : 0;
  return {
    doc: Math.min(1, Math.max(0, mean + cal.accuracy - cal.meanConfidence)),
    atc_max: shareAbove(max, cal.thresholdMax),
    atc_entropy: shareAbove(entropy, cal.thresholdEntropy),
  };
}

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** A calibration read from a classifier file; undefined or null (files written before it existed): null. */
export function calibrationFromJson(v: unknown): ConfidenceCalibration | null {
  if (v === undefined || v === null) return null;
  const c = v as Partial<ConfidenceCalibration>;
  const ok = (c.source === 'held-out' || c.source === 'cross-fitted') && finite(c.cells) && c.cells > 0 && finite(c.accuracy) && finite(c.meanConfidence) && finite(c.thresholdMax) && finite(c.thresholdEntropy);
  if (!ok) throw new Error('classifier file: malformed confidence calibration');
  return { source: c.source!, cells: c.cells!, accuracy: c.accuracy!, meanConfidence: c.meanConfidence!, thresholdMax: c.thresholdMax!, thresholdEntropy: c.thresholdEntropy! };
}
