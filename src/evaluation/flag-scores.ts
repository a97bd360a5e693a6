// What a lab gets if a person reviews the cells the classifier flags (issue 5: flag cells that look unlike the
// training data instead of forcing a class). The evaluation scores the flags the classify stage gave each cell (its
// verdicts, src/pipeline/classify.ts), read into reason codes by the rule GraphQL and the SDK read them by
// (flagReasonOf): far from every training class (NOVEL), a top probability under minConfidence (LOW_CONFIDENCE), or
// withheld because the batch's self-check failed (SELF_CHECK). It reports how many are flagged and how accurate the
// forest's class is on the rest. Flags that work leave the unflagged cells more accurate than all of them, and the
// flagged ones less.
import { flagReasonOf } from '../../client-sdk/src/differential-count.js';
import type { CellVerdict } from '../engine/classifier/classifier-artifact.js';
import { wilsonInterval } from '../pipeline/metrics.js';

export interface FlagScores {
  /** The top-probability threshold used (the product's default, TrainClassifierInput.minConfidence). */
  min_confidence: number;
  n: number;
  flagged: number;
  /** Flagged as unlike the training cells (novelty), and, of the rest, for a low top probability. */
  novel: number;
  low_confidence: number;
  /**
   * Cells flagged only because the batch's self-check failed (the classify job withholds every cell then: SELF_CHECK);
   * 0 or absent where the check passed or the method runs none.
   */
  self_check?: number;
  /** The forest's class on the cells not flagged; null accuracy when every cell is flagged. */
  unflagged: { n: number; accuracy: number | null; accuracy_ci95: [number, number] | null };
  /** How often the forest's class (which the product withholds) is right on the flagged cells. */
  flagged_accuracy: number | null;
}

/**
 * truth/pred: each cell's class and the forest's best guess (which a flagged verdict withholds); verdicts: what the
 * classify stage gave each cell, flagged or not and why. minConfidence: the classifier's, reported beside the counts.
 */
export function flagScores(
  truth: readonly string[],
  pred: readonly string[],
  verdicts: readonly Pick<CellVerdict, 'flagged' | 'reason'>[],
  minConfidence: number,
): FlagScores {
  const n = truth.length;
  if (pred.length !== n || verdicts.length !== n) throw new Error(`flag scores: ${n} labels, ${pred.length} predictions, ${verdicts.length} verdicts`);
  if (!(minConfidence >= 0 && minConfidence <= 1)) throw new Error(`flag scores: minConfidence must be in [0, 1], got ${minConfidence}`);
  let nNovel = 0;
  let nLow = 0;
  let nWithheld = 0;
  let kept = 0;
  let keptRight = 0;
  let flaggedRight = 0;
  for (let i = 0; i < n; i++) {
    const right = truth[i] === pred[i] ? 1 : 0;
    const v = verdicts[i]!;
    if (!v.flagged) {
      kept++;
      keptRight += right;
      continue;
    }
    const reason = flagReasonOf(v);
    if (reason === 'NOVEL') nNovel++;
    else if (reason === 'LOW_CONFIDENCE') nLow++;
    else if (reason === 'SELF_CHECK') nWithheld++;
    else throw new Error(`flag scores: cell ${i} is flagged for a reason the report has no count for: ${JSON.stringify(v.reason)}`);
    flaggedRight += right;
  }
  const flagged = nNovel + nLow + nWithheld;
  return {
    min_confidence: minConfidence,
    n,
    flagged,
    novel: nNovel,
    low_confidence: nLow,
    self_check: nWithheld,
    unflagged: { n: kept, accuracy: kept ? keptRight / kept : null, accuracy_ci95: kept ? wilsonInterval(keptRight, kept) : null },
    flagged_accuracy: flagged ? flaggedRight / flagged : null,
  };
}
